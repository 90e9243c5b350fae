//! Logs (feature `logs`): [`LoggerProvider`] → [`Logger`] → [`LogRecord`], correlated with
//! the current span, and the simple and batch log record processors.

mod encode;
mod limits;
mod processor;
mod provider;
mod record;

pub use encode::log_to_proto;
pub use limits::LogRecordLimits;
pub use processor::{BatchLogProcessor, LogExporter, LogProcessor, SimpleLogProcessor};
pub use provider::{Logger, LoggerProvider, LoggerProviderBuilder};
pub use record::{LogData, LogRecord, SeverityNumber};
