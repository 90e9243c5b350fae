#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Configuration errors of the data processors, in the pipeline's terms.

use otlp_pipeline::Signal;
use otlp_pipeline::factory::{Factory, ProcessorFactory};

use super::test_support::yaml;
use crate::attributes::attributes_factory;
use crate::filter::filter_factory;
use crate::resource::resource_factory;

#[test]
fn configuration_errors_name_the_field() {
    let error = attributes_factory()
        .validate(&yaml(
            "actions:\n  - {key: a, action: convert, converted_type: date}",
        ))
        .unwrap_err();
    assert!(error.to_string().contains("converted_type"), "{error}");
    let error = filter_factory()
        .validate(&yaml("traces:\n  span:\n    - 'name ==='"))
        .unwrap_err();
    assert!(error.to_string().contains("traces::span[0]"), "{error}");
    let error = resource_factory().validate(&yaml("{}")).unwrap_err();
    assert!(error.to_string().contains("attributes"), "{error}");
    // A rule that depends on the pipeline: `log_bodies` matches logs only.
    let config = yaml(
        "include:\n  match_type: strict\n  log_bodies: [x]\nactions:\n  - {key: a, action: delete}",
    );
    assert!(attributes_factory().validate(&config).is_ok());
    assert!(
        attributes_factory()
            .validate_for_signal(&config, Signal::Logs)
            .is_ok()
    );
    assert!(
        attributes_factory()
            .validate_for_signal(&config, Signal::Traces)
            .is_err()
    );
}
