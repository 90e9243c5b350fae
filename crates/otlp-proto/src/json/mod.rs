//! OTLP/JSON (placeholder until the JSON mapping lands).
