//! [`sampler_from_env`]: the sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` ask
//! for.

use crate::env::{Env, invalid};

use super::{AlwaysOff, AlwaysOn, ParentBased, Sampler, TraceIdRatioBased};

/// The environment variable naming the sampler.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";

/// The environment variable holding the sampler's argument (the ratio of the ratio samplers).
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";

/// What [`OTEL_TRACES_SAMPLER`] may say, for the warning about anything else.
const EXPECTED_SAMPLER: &str = "always_on, always_off, traceidratio, parentbased_always_on, \
     parentbased_always_off or parentbased_traceidratio";

/// The sampler the environment configures (OpenTelemetry SDK environment variables).
///
/// [`OTEL_TRACES_SAMPLER`], case-insensitive and trimmed:
///
/// | value                      | sampler                                 |
/// |----------------------------|-----------------------------------------|
/// | `always_on`                | [`AlwaysOn`]                            |
/// | `always_off`               | [`AlwaysOff`]                           |
/// | `traceidratio`             | [`TraceIdRatioBased`] of the argument   |
/// | `parentbased_always_on`    | `ParentBased(AlwaysOn)`, also when unset |
/// | `parentbased_always_off`   | `ParentBased(AlwaysOff)`                |
/// | `parentbased_traceidratio` | `ParentBased(TraceIdRatioBased(arg))`   |
///
/// `jaeger_remote`, `parentbased_jaeger_remote`, `xray` (not built in) and any other value are
/// reported through [`crate::env::invalid`] and give the default, `ParentBased(AlwaysOn)`.
///
/// [`OTEL_TRACES_SAMPLER_ARG`] is read only by the two ratio samplers: a number in `[0, 1]`;
/// unset means 1.0; anything else is reported and 1.0 is used.
#[must_use]
pub fn sampler_from_env(env: &dyn Env) -> Box<dyn Sampler> {
    let Some(raw) = env.get(OTEL_TRACES_SAMPLER) else {
        return default_sampler();
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "always_on" => Box::new(AlwaysOn),
        "always_off" => Box::new(AlwaysOff),
        "traceidratio" => Box::new(TraceIdRatioBased::new(ratio_arg(env))),
        "parentbased_always_on" => default_sampler(),
        "parentbased_always_off" => Box::new(ParentBased::new(AlwaysOff)),
        "parentbased_traceidratio" => {
            Box::new(ParentBased::new(TraceIdRatioBased::new(ratio_arg(env))))
        }
        "jaeger_remote" | "parentbased_jaeger_remote" | "xray" => {
            invalid(
                OTEL_TRACES_SAMPLER,
                &raw,
                "a built-in sampler (this one is not built in); using parentbased_always_on",
            );
            default_sampler()
        }
        _ => {
            invalid(OTEL_TRACES_SAMPLER, &raw, EXPECTED_SAMPLER);
            default_sampler()
        }
    }
}

/// The specification's default sampler, `ParentBased(root=AlwaysOn)`.
fn default_sampler() -> Box<dyn Sampler> {
    Box::new(ParentBased::new(AlwaysOn))
}

/// [`OTEL_TRACES_SAMPLER_ARG`] as a ratio: unset is 1.0; not a number in `[0, 1]` is reported
/// and 1.0.
fn ratio_arg(env: &dyn Env) -> f64 {
    let Some(raw) = env.get(OTEL_TRACES_SAMPLER_ARG) else {
        return 1.0;
    };
    match raw.trim().parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => ratio,
        _ => {
            invalid(
                OTEL_TRACES_SAMPLER_ARG,
                &raw,
                "a number in [0, 1]; using 1.0",
            );
            1.0
        }
    }
}
