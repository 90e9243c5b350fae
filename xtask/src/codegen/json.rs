//! OTLP/JSON serde generator (placeholder until the generator lands).

use crate::Result;
use super::GeneratedFiles;

/// Generates the OTLP/JSON serde implementations.
pub fn generate(_descriptors: &prost_types::FileDescriptorSet) -> Result<GeneratedFiles> {
    Ok(GeneratedFiles::new())
}
