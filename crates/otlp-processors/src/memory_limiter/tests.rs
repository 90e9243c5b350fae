#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use otlp_pipeline::config::parse_config;
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::testing::{Probe, id, processor_ctx, traces};
use otlp_transport::status::Refusal;

const MIB: u64 = 1024 * 1024;

fn config(yaml: &str) -> Result<MemoryLimiterConfig, otlp_pipeline::ConfigError> {
    let config: MemoryLimiterConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
    config.validate()?;
    Ok(config)
}

#[test]
fn otelcol_configuration_and_limits() {
    let c = config("check_interval: 1s\nlimit_mib: 4000\nspike_limit_mib: 800").unwrap();
    assert_eq!(
        c.limits().unwrap(),
        Limits {
            soft: 3200 * MIB,
            hard: 4000 * MIB
        }
    );
    let c = config("check_interval: 1s\nlimit_mib: 1000").unwrap();
    assert_eq!(
        c.limits().unwrap(),
        Limits {
            soft: 800 * MIB,
            hard: 1000 * MIB
        },
        "spike defaults to 20%"
    );
    let c = config("check_interval: 5s\nlimit_percentage: 80\nspike_limit_percentage: 25").unwrap();
    assert_eq!(
        c.limits_with_total(Some(1000 * MIB)).unwrap(),
        Limits {
            soft: 550 * MIB,
            hard: 800 * MIB
        }
    );
    assert!(c.limits_with_total(None).is_err());
    let c = config("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_soft_limited: 10s")
        .unwrap();
    assert_eq!(
        c.min_gc_interval_when_soft_limited,
        Some(Duration::from_secs(10))
    );

    for (yaml, expected) in [
        ("limit_mib: 100", "check_interval"),
        ("check_interval: 0s\nlimit_mib: 100", "check_interval"),
        ("check_interval: 1s", "limit_mib or limit_percentage"),
        (
            "check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 100",
            "spike_limit_mib",
        ),
        ("check_interval: 1s\nlimit_percentage: 120", "at most 100"),
        (
            "check_interval: 1s\nlimit_percentage: 20\nspike_limit_percentage: 30",
            "spike_limit_percentage",
        ),
        (
            "check_interval: 1s\nlimit_mib: 100\nballast_size_mib: 10",
            "unknown field",
        ),
    ] {
        let error = config(yaml).expect_err(yaml).to_string();
        assert!(error.contains(expected), "{yaml}: {error}");
    }
}

fn fake_sampler(value: &Arc<AtomicU64>) -> Sampler {
    let value = Arc::clone(value);
    Arc::new(move || Some(value.load(Ordering::SeqCst)))
}

#[tokio::test]
async fn refuses_above_the_soft_limit_and_recovers() {
    let rss = Arc::new(AtomicU64::new(10 * MIB));
    let resources = otlp_pipeline::Resources::collector();
    let probe = Probe::new();
    let limits = Limits {
        soft: 80 * MIB,
        hard: 100 * MIB,
    };
    let ctx = processor_ctx("memory_limiter", "traces", probe.clone(), resources.clone());
    let processor = MemoryLimiterProcessor::with_limits(
        ctx,
        limits,
        Duration::from_secs(3600),
        Some(fake_sampler(&rss)),
    );
    processor.start(&Host::empty()).await.unwrap();
    processor.consume(Telemetry::new(traces(2))).await.unwrap();
    assert_eq!(probe.items(), 2);

    rss.store(90 * MIB, Ordering::SeqCst);
    processor.limiter.check();
    assert!(processor.is_refusing());
    let error = processor
        .consume(Telemetry::new(traces(3)))
        .await
        .expect_err("above the soft limit");
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert!(
        error.message().contains("90 MiB used, soft limit 80 MiB"),
        "{error}"
    );
    let metrics = Metrics::from_resources(&resources);
    assert_eq!(
        metrics.value(
            "otelcol_processor_refused_spans_total",
            &[("processor", "memory_limiter")]
        ),
        Some(3.0)
    );

    // The receivers' hook refuses too, before anything is read.
    let pressure = MemoryPressure::from_resources(&resources);
    assert!(pressure.is_refusing());
    assert!(matches!(pressure.admit(10), Err(Refusal::Retryable { .. })));

    rss.store(50 * MIB, Ordering::SeqCst);
    processor.limiter.check();
    assert!(!processor.is_refusing());
    processor.consume(Telemetry::new(traces(1))).await.unwrap();
    assert_eq!(probe.items(), 3);
    processor.shutdown(Instant::now()).await.unwrap();
}

#[tokio::test]
async fn admission_reserves_the_estimated_decoded_size() {
    let rss = Arc::new(AtomicU64::new(60 * MIB));
    let pressure = MemoryPressure::new();
    assert!(
        pressure.admit(usize::MAX / 8).is_ok(),
        "no limiter: everything is admitted"
    );
    let limiter = pressure.limiter(
        &id("memory_limiter"),
        Limits {
            soft: 80 * MIB,
            hard: 100 * MIB,
        },
        Duration::from_secs(1),
        Some(fake_sampler(&rss)),
    );
    limiter.check();
    // 60 MiB used: 8 MiB requests reserve 32 MiB each; the second would pass the hard limit.
    let first = pressure.admit(8 * MIB as usize).expect("fits");
    assert_eq!(pressure.reserved_bytes(), 32 * MIB);
    let refusal = pressure
        .admit(8 * MIB as usize)
        .expect_err("would pass the hard limit");
    assert!(
        refusal.message().contains("hard memory limit of 100 MiB"),
        "{refusal}"
    );
    assert_eq!(
        pressure.reserved_bytes(),
        32 * MIB,
        "a refused request reserves nothing"
    );
    drop(first);
    assert_eq!(pressure.reserved_bytes(), 0);
    assert!(
        pressure.admit(8 * MIB as usize).is_ok(),
        "room again once the first request finished"
    );
    drop(limiter);
    assert!(!pressure.is_refusing());
}

#[tokio::test]
async fn instances_of_one_id_share_a_limiter() {
    let resources = otlp_pipeline::Resources::collector();
    let config = MemoryLimiterConfig {
        check_interval: Duration::from_secs(1),
        limit_mib: 1_000_000,
        ..Default::default()
    };
    let a = MemoryLimiterProcessor::new(
        processor_ctx("memory_limiter", "traces", Probe::new(), resources.clone()),
        &config,
    )
    .unwrap();
    let b = MemoryLimiterProcessor::new(
        processor_ctx("memory_limiter", "logs", Probe::new(), resources.clone()),
        &config,
    )
    .unwrap();
    assert!(Arc::ptr_eq(&a.limiter, &b.limiter));
    a.start(&Host::empty()).await.unwrap();
    b.start(&Host::empty()).await.unwrap();
    assert!(a.limiter.rss() > 0, "sampled at start");
    a.shutdown(Instant::now()).await.unwrap();
    assert!(a.limiter.is_sampling(), "still used by the other pipeline");
    b.shutdown(Instant::now()).await.unwrap();
    assert!(!a.limiter.is_sampling());
}
