//! OTTL's functions: editors ([`editors`]) change the item, converters ([`converters`]) give
//! values. Each family's logic is in its own file: map editors ([`maps`]), the `replace_*`
//! text work ([`replace`]), string, type and encoding converters ([`strings`], [`types`],
//! [`encoding`]), the editors of one context ([`signal_editors`]: `set_semconv_span_name`,
//! `convert_gauge_to_sum`, `convert_sum_to_gauge`).

pub(crate) mod converters;
pub(crate) mod editors;
pub(crate) mod encoding;
pub(crate) mod maps;
pub(crate) mod replace;
pub(crate) mod signal_editors;
pub(crate) mod strings;
pub(crate) mod types;

pub(crate) use converters::{Converter, compile_converter};
pub(crate) use editors::{Editor, compile_editor};
