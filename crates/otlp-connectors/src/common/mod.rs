//! What several connectors share: OTTL's `error_mode`.

use serde::{Deserialize, Serialize};

/// How a connector treats a condition that fails to evaluate (OTTL's `error_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorMode {
    /// The request is refused (permanently): the default.
    #[default]
    Propagate,
    /// The condition counts as not met; the error is logged.
    Ignore,
    /// The condition counts as not met; nothing is logged.
    Silent,
}
