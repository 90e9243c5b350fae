//! Examples of building with the otlp-rs crates; see `custom_collector.rs` and
//! `docs/custom-collector.md`. This library is empty: the package holds the examples and the
//! dependencies a user would declare for them.
