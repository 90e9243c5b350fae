//! [`ServiceInstanceDetector`]: `service.instance.id`.

use std::borrow::Cow;
use std::sync::OnceLock;

use otlp_model::semconv::resource::SERVICE_INSTANCE_ID;

use super::{Resource, ResourceDetector};
use crate::value::{Key, KeyValue, Value};

/// Sets `service.instance.id`: a random UUID v4 generated once per process (every detector
/// and every provider of the process reports the same one), or the id it was given.
///
/// `OTEL_RESOURCE_ATTRIBUTES=service.instance.id=...` still wins in [`Resource::default`],
/// whose environment detector runs last.
#[derive(Debug, Clone, Default)]
pub struct ServiceInstanceDetector {
    id: Option<Cow<'static, str>>,
}

impl ServiceInstanceDetector {
    /// A detector reporting this process's random id.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A detector reporting `id` instead of the random one.
    #[must_use]
    pub fn with_id(id: impl Into<Cow<'static, str>>) -> Self {
        Self {
            id: Some(id.into()),
        }
    }
}

impl ResourceDetector for ServiceInstanceDetector {
    fn detect(&self) -> Resource {
        let id = match &self.id {
            Some(id) => id.clone(),
            None => Cow::Borrowed(process_instance_id()),
        };
        Resource::new([KeyValue::new(
            Key::from_static(SERVICE_INSTANCE_ID),
            Value::String(id),
        )])
    }
}

/// The random UUID v4 of this process, generated on first use.
pub(crate) fn process_instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format_uuid_v4(rand::random()))
}

/// Formats 16 random bytes as a version-4, RFC 4122 variant UUID (`xxxxxxxx-xxxx-4xxx-yxxx-
/// xxxxxxxxxxxx`, lowercase, `y` one of `8`, `9`, `a`, `b`).
pub(crate) fn format_uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}
