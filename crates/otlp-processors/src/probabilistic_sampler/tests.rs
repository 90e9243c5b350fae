use otlp_model::prelude::*;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::AnyValue;

use super::*;
use crate::common::ConfigError;

fn tid(hex: &str) -> [u8; 16] {
    let mut out = [0_u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    out
}

/// A deterministic 64-bit generator (splitmix64) for reproducible "random" trace ids.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn trace_id(&mut self) -> [u8; 16] {
        let mut id = [0_u8; 16];
        id[..8].copy_from_slice(&self.next().to_be_bytes());
        id[8..].copy_from_slice(&self.next().to_be_bytes());
        id
    }
}

fn sampler(yaml: &str) -> ProbabilisticSampler {
    ProbabilisticSamplerConfig::from_yaml(yaml)
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn one_span(
    id: [u8; 16],
    trace_state: &str,
    attr: Option<(&str, AnyValue)>,
) -> ExportTraceServiceRequest {
    let mut b = SpanBuilder::new("s")
        .trace_id(id)
        .span_id(0xfefe_fefe_u64)
        .trace_state(trace_state);
    if let Some((k, v)) = attr {
        b = b.attr(k, v);
    }
    let mut req = TracesBuilder::new().span(b).build();
    // The builder draws a random id for a zero trace id; force it for "missing randomness".
    if id == [0; 16] {
        req.resource_spans[0].scope_spans[0].spans[0].trace_id = vec![0; 16];
    }
    req
}

fn kept_state(s: &ProbabilisticSampler, mut req: ExportTraceServiceRequest) -> Option<String> {
    let dropped = s.process_traces(&mut req);
    if dropped == 1 {
        assert!(
            req.resource_spans.is_empty(),
            "empty containers are removed"
        );
        None
    } else {
        Some(
            req.resource_spans[0].scope_spans[0].spans[0]
                .trace_state
                .clone(),
        )
    }
}

#[test]
fn fnv_hash_matches_go_test_vectors() {
    // Go: TestEmptyHashFunction in probabilisticsamplerprocessor/tracesprocessor_test.go.
    assert_eq!(compute_hash(&[], 0) & 0x3fff, 0x3515);
    assert_eq!(compute_hash(&[0; 16], 0) & 0x3fff, 0x2455);
}

#[test]
fn fnv_hash_fixed_vectors() {
    // Reference values from an independent Python implementation of the documented algorithm
    // (FNV-1a 32 over the seed's 4 little-endian bytes then the trace id; float32 scaling),
    // not from a run of the Go collector.
    let cases = [
        (0_u32, "4bf92f3577b34da6a3ce929d0e0e4736", 0x3420_408d_u32),
        (0, "0102030405060708090a0b0c0d0e0f10", 0xdf24_1a25),
        (22, "0102030405060708090a0b0c0d0e0f10", 0xd863_b443),
        (22, "5b8efff798038103d269b633813fc60c", 0xa2a6_4cc9),
        (4312, "ffffffffffffffffffffffffffffffff", 0x714c_84cd),
    ];
    for (seed, id, want) in cases {
        assert_eq!(compute_hash(&tid(id), seed), want, "seed {seed} id {id}");
    }
    assert_eq!(hash_seed_scaled_rate(10.0), 1638);
    assert_eq!(hash_seed_scaled_rate(50.0), 8192);
    assert_eq!(hash_seed_scaled_rate(15.3), 2506);
    assert_eq!(hash_seed_scaled_rate(33.33), 5460);
    assert_eq!(hash_seed_scaled_rate(100.0), 16384);
    assert_eq!(hash_seed_scaled_rate(250.0), 16384);

    // Decisions and the tracestate written for kept spans.
    let ten = sampler("sampling_percentage: 10\nmode: hash_seed");
    assert_eq!(
        kept_state(
            &ten,
            one_span(tid("4bf92f3577b34da6a3ce929d0e0e4736"), "", None)
        )
        .as_deref(),
        Some("ot=rv:fdc8d0b520408d;th:e668")
    );
    assert_eq!(
        kept_state(
            &ten,
            one_span(tid("0102030405060708090a0b0c0d0e0f10"), "", None)
        ),
        None
    );
    let seeded = sampler("sampling_percentage: 10\nhash_seed: 4312");
    assert_eq!(
        kept_state(
            &seeded,
            one_span(tid("ffffffffffffffffffffffffffffffff"), "", None)
        )
        .as_deref(),
        Some("ot=rv:ecc9c5434c84cd;th:e668")
    );
    let half = sampler("sampling_percentage: 50\nhash_seed: 22");
    assert!(!half.keeps_trace_id(tid("0102030405060708090a0b0c0d0e0f10")));
    assert!(half.keeps_trace_id(tid("5b8efff798038103d269b633813fc60c")));
}

#[test]
fn hash_seed_thresholds_match_go() {
    // Go: Test_tracesamplerprocessor_HashSeedTraceState (seed 4312, precision 4).
    for (pct, want) in [
        (100.0, "0"),
        (75.0, "4"),
        (50.0, "8"),
        (25.0, "c"),
        (10.0, "e668"),
        (100.0_f32 / 3.0, "aaac"),
    ] {
        let cfg = ProbabilisticSamplerConfig {
            sampling_percentage: pct,
            hash_seed: 4312,
            mode: Some(SamplerMode::HashSeed),
            ..ProbabilisticSamplerConfig::default()
        };
        let s = cfg.build().unwrap_or_else(|e| panic!("{e}"));
        let mut rng = SplitMix(u64::from(pct.to_bits()));
        let mut found = 0;
        while found < 10 {
            let Some(state) = kept_state(&s, one_span(rng.trace_id(), "", None)) else {
                continue;
            };
            let ts = W3cTraceState::parse(&state).unwrap_or_default();
            let th = ts.otel.threshold().unwrap_or(Threshold::NEVER);
            let rv = ts.otel.randomness().unwrap_or(Randomness(0));
            assert_eq!(th.tvalue(), want, "pct {pct}");
            assert!(th.should_sample(rv));
            found += 1;
        }
    }
}

#[test]
fn same_seed_same_decision_on_every_instance() {
    let a = sampler("sampling_percentage: 25\nhash_seed: 77");
    let b = sampler("hash_seed: 77\nsampling_percentage: 25.0\nfail_closed: true");
    let other_seed = sampler("sampling_percentage: 25\nhash_seed: 78");
    let mut rng = SplitMix(1);
    let mut differs = 0;
    for _ in 0..2000 {
        let id = rng.trace_id();
        assert_eq!(a.keeps_trace_id(id), b.keeps_trace_id(id));
        differs += usize::from(a.keeps_trace_id(id) != other_seed.keeps_trace_id(id));
    }
    assert!(
        differs > 100,
        "another seed makes other decisions ({differs})"
    );

    // All spans of one trace share the decision, whatever else differs between them.
    let id = rng.trace_id();
    let mut req = TracesBuilder::new()
        .spans((0..20).map(|i| SpanBuilder::new(format!("s{i}")).trace_id(id).attr("i", i)))
        .build();
    let dropped = a.process_traces(&mut req);
    assert!(dropped == 0 || dropped == 20);
}

fn kept_fraction(s: &ProbabilisticSampler, seed: u64, n: usize) -> f64 {
    let mut rng = SplitMix(seed);
    let kept = (0..n).filter(|_| s.keeps_trace_id(rng.trace_id())).count();
    kept as f64 / n as f64
}

#[test]
fn kept_fraction_within_tolerance() {
    for (yaml, want, tol) in [
        ("sampling_percentage: 10\nhash_seed: 22", 0.1, 0.015),
        ("sampling_percentage: 50\nhash_seed: 22", 0.5, 0.025),
        ("sampling_percentage: 10\nmode: proportional", 0.1, 0.015),
        ("sampling_percentage: 50\nmode: equalizing", 0.5, 0.025),
    ] {
        let got = kept_fraction(&sampler(yaml), 42, 10_000);
        assert!((got - want).abs() <= tol, "{yaml}: kept {got}");
    }
    for mode in ["hash_seed", "proportional", "equalizing"] {
        assert_eq!(
            kept_fraction(
                &sampler(&format!("sampling_percentage: 0\nmode: {mode}")),
                7,
                10_000
            ),
            0.0
        );
        assert_eq!(
            kept_fraction(
                &sampler(&format!("sampling_percentage: 100\nmode: {mode}")),
                7,
                10_000
            ),
            1.0
        );
    }
}

/// Go: Test_tracesamplerprocessor_TraceState, for the equalizing and proportional modes. The Go
/// test builds `Config{}` directly, so `fail_closed` is false and precision 0 (full) unless set.
#[test]
fn consistent_modes_match_go_tracestate_vectors() {
    let default_tid = "fefefefefefefefefe80000000000000";
    let improbable = "111111111111111111ffffffffffffff";
    type Case = (
        &'static str,
        f32,
        i64,
        &'static str,
        Option<(&'static str, i64)>,
        bool,
        [(bool, &'static str); 2],
    );
    // (tid, pct, precision, tracestate in, priority, fail_closed, [equalizing, proportional])
    let cases: Vec<Case> = vec![
        (
            default_tid,
            100.0,
            0,
            "",
            None,
            false,
            [(true, "ot=th:0"); 2],
        ),
        (
            default_tid,
            50.0,
            0,
            "",
            None,
            false,
            [(true, "ot=th:8"); 2],
        ),
        (
            "ddddddddddddddddddc0000000000000",
            25.0,
            0,
            "",
            None,
            false,
            [(true, "ot=th:c"); 2],
        ),
        (
            "ddddddddddddddddddb0000000000000",
            25.0,
            0,
            "",
            None,
            false,
            [(false, ""); 2],
        ),
        (
            default_tid,
            1.0,
            0,
            "ot=rv:FD70A3D70A3D71",
            None,
            false,
            [(true, "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"); 2],
        ),
        (
            default_tid,
            1.0,
            4,
            "ot=rv:FD70A3D70A3D71",
            None,
            false,
            [(true, "ot=rv:FD70A3D70A3D71;th:fd70a"); 2],
        ),
        (
            default_tid,
            1.0,
            3,
            "ot=rv:FD70A3D70A3D71",
            None,
            false,
            [(false, ""); 2],
        ),
        (
            default_tid,
            1.0,
            0,
            "ot=rv:FD70A3D70A3D70",
            None,
            false,
            [(false, ""); 2],
        ),
        (default_tid, 49.0, 0, "", None, false, [(false, ""); 2]),
        (
            default_tid,
            1.0,
            0,
            "ot=rv:fd70B000000000",
            None,
            false,
            [(true, "ot=rv:fd70B000000000;th:fd70a3d70a3d71"); 2],
        ),
        (
            "a0a0a0a0a0a0a0a0a0fe000000000000",
            1.0,
            4,
            "",
            None,
            false,
            [(true, "ot=th:fd70a"); 2],
        ),
        (
            default_tid,
            1.0,
            0,
            "",
            Some(("sampling.priority", 2)),
            false,
            [(true, "ot=th:0"); 2],
        ),
        (
            default_tid,
            99.0,
            0,
            "",
            Some(("sampling.priority", 0)),
            false,
            [(false, ""); 2],
        ),
        (
            default_tid,
            50.0,
            0,
            "ot=rv:90000000000000;th:80000000000000",
            None,
            false,
            [(true, "ot=rv:90000000000000;th:8"), (false, "")],
        ),
        (
            default_tid,
            25.0,
            0,
            "ot=th:8",
            None,
            false,
            [(false, ""); 2],
        ),
        (
            "ffffffffffffffffffffffffffffffff",
            25.0,
            0,
            "ot=th:8",
            None,
            false,
            [(true, "ot=th:c"), (true, "ot=th:e")],
        ),
        (
            default_tid,
            50.0,
            0,
            "ot=rv:c0000000000000;th:8",
            None,
            false,
            [
                (true, "ot=rv:c0000000000000;th:8"),
                (true, "ot=rv:c0000000000000;th:c"),
            ],
        ),
        (
            default_tid,
            100.0,
            0,
            "ot=rv:40000000000000;th:8",
            None,
            false,
            [(true, "ot=rv:40000000000000;th:0"); 2],
        ),
        (
            default_tid,
            1.0,
            0,
            "ot=rv:40000000000000;th:8",
            None,
            true,
            [(false, ""); 2],
        ),
        (
            default_tid,
            40.0,
            3,
            "ot=rv:a0000000000000",
            None,
            false,
            [(true, "ot=rv:a0000000000000;th:99a"); 2],
        ),
        (
            "a0a0a0a0a0a0a0a0a0d0000000000000",
            40.0,
            6,
            "ot=th:8",
            None,
            false,
            [(true, "ot=th:99999a"), (true, "ot=th:cccccd")],
        ),
        (
            "a0a0a0a0a0a0a0a0a0b0000000000000",
            40.0,
            3,
            "ot=th:8",
            None,
            false,
            [(true, "ot=th:99a"), (false, "")],
        ),
        (
            "a0a0a0a0a0a0a0a0a080000000000000",
            40.0,
            3,
            "ot=th:8",
            None,
            false,
            [(false, ""); 2],
        ),
        (
            default_tid,
            200.0,
            0,
            "",
            None,
            false,
            [(true, "ot=th:0"); 2],
        ),
        (
            improbable,
            100.0 / 16384.0,
            0,
            "ot=th:fffc",
            None,
            false,
            [(true, "ot=th:fffc"), (true, "ot=th:fffffff")],
        ),
        (
            improbable,
            ((1.0_f64 - 8e-7) * 100.0) as f32,
            10,
            "",
            None,
            false,
            [(true, "ot=th:00000cccccccd"); 2],
        ),
        (
            improbable,
            0.0625,
            0,
            "ot=th:fffffffffffff8",
            None,
            false,
            [(true, "ot=th:fffffffffffff8"), (false, "")],
        ),
    ];
    for (i, (id, pct, precision, ts, priority, fail_closed, want)) in cases.into_iter().enumerate()
    {
        for (mode, (want_kept, want_ts)) in [SamplerMode::Equalizing, SamplerMode::Proportional]
            .into_iter()
            .zip(want)
        {
            let cfg = ProbabilisticSamplerConfig {
                sampling_percentage: pct,
                hash_seed: 4312,
                mode: Some(mode),
                fail_closed,
                sampling_precision: precision,
                ..ProbabilisticSamplerConfig::default()
            };
            let s = ProbabilisticSampler::new(&cfg);
            let attr = priority.map(|(k, v)| (k, v.into_any_value()));
            let got = kept_state(&s, one_span(tid(id), ts, attr));
            let expected = want_kept.then(|| want_ts.to_owned());
            assert_eq!(got, expected, "case {i} ({mode:?}, pct {pct}, ts {ts:?})");
        }
    }
}

#[test]
fn fail_closed_drops_items_with_bad_sampling_information() {
    // Go: Test_tracesamplerprocessor_TraceStateErrors (fail_closed, 100%).
    let cases = [
        ("00000000000000000000000000000000", ""),
        ("fefefefefefefefefe80000000000000", "ot=rv:abababababababab"),
        ("fefefefefefefefefe80000000000000", "ot=th:abababababababab"),
        ("fefefefefefefefefe80000000000000", "ot=th:-1"),
        ("ffffffffffffffffff70000000000000", "ot=th:8"),
        (
            "fefefefefefefefefe80000000000000",
            "ot=th:8;rv:70000000000000",
        ),
    ];
    for mode in ["equalizing", "proportional"] {
        let s = sampler(&format!("sampling_percentage: 100\nmode: {mode}"));
        for (id, ts) in cases {
            assert_eq!(
                kept_state(&s, one_span(tid(id), ts, None)),
                None,
                "{mode} {id} {ts:?}"
            );
        }
        let open = sampler(&format!(
            "sampling_percentage: 100\nmode: {mode}\nfail_closed: false"
        ));
        for (id, ts) in cases {
            assert!(
                kept_state(&open, one_span(tid(id), ts, None)).is_some(),
                "fail open {mode} {id} {ts:?}"
            );
        }
    }
}

#[test]
fn missing_randomness_in_hash_seed_mode() {
    // Go: Test_tracessamplerprocessor_MissingRandomness (seed 4312, empty trace id).
    for (pct, fail_closed, kept) in [
        (0.0, true, false),
        (62.0, true, false),
        (100.0, true, false),
        (0.0, false, false),
        (62.0, false, true),
        (100.0, false, true),
    ] {
        let s = sampler(&format!(
            "sampling_percentage: {pct}\nhash_seed: 4312\nfail_closed: {fail_closed}"
        ));
        assert_eq!(
            kept_state(&s, one_span([0; 16], "", None)).is_some(),
            kept,
            "pct {pct} fail_closed {fail_closed}"
        );
    }
    // hash_seed leaves existing OTel sampling information alone: an error, so fail closed drops.
    let s = sampler("sampling_percentage: 100\nhash_seed: 1");
    assert_eq!(
        kept_state(
            &s,
            one_span(tid("fefefefefefefefefe80000000000000"), "ot=th:8", None)
        ),
        None
    );
    let open = sampler("sampling_percentage: 100\nhash_seed: 1\nfail_closed: false");
    assert_eq!(
        kept_state(
            &open,
            one_span(
                tid("fefefefefefefefefe80000000000000"),
                "ot=th:8,vendor=x",
                None
            )
        )
        .as_deref(),
        Some("ot=th:8,vendor=x")
    );
}

#[test]
fn span_sampling_priority_forces_the_decision() {
    // Go: Test_tracesamplerprocessor_SpanSamplingPriority, for every mode.
    let cases: [(f32, &str, AnyValue, bool); 8] = [
        (0.0, "sampling.priority", 2.into_any_value(), true),
        (0.0, "sampling.priority", 1.0.into_any_value(), true),
        (0.0, "sampling.priority", "1".into_any_value(), true),
        (100.0, "sampling.priority", 0.into_any_value(), false),
        (100.0, "sampling.priority", 0.0.into_any_value(), false),
        (100.0, "sampling.priority", "0".into_any_value(), false),
        (0.0, "no.sampling.priority", 2.into_any_value(), false),
        (100.0, "no.sampling.priority", 2.into_any_value(), true),
    ];
    for mode in [
        SamplerMode::HashSeed,
        SamplerMode::Equalizing,
        SamplerMode::Proportional,
    ] {
        for (pct, key, value, kept) in cases.clone() {
            let cfg = ProbabilisticSamplerConfig {
                sampling_percentage: pct,
                hash_seed: 4312,
                mode: Some(mode),
                fail_closed: false,
                ..ProbabilisticSamplerConfig::default()
            };
            let s = ProbabilisticSampler::new(&cfg);
            let mut rng = SplitMix(9);
            let got =
                kept_state(&s, one_span(rng.trace_id(), "", Some((key, value.clone())))).is_some();
            assert_eq!(got, kept, "{mode:?} pct {pct} {key}={value:?}");
        }
    }
    assert_eq!(
        span_priority(&[kv("sampling.priority", -1)]),
        Priority::Defer
    );
    assert_eq!(
        span_priority(&[kv("sampling.priority", "NaN")]),
        Priority::Defer
    );
    assert_eq!(
        span_priority(&[kv("sampling.priority", "0.5")]),
        Priority::Must
    );
}

#[test]
fn logs_sample_by_record_attribute_and_priority() {
    let s = sampler(
        r#"
sampling_percentage: 30
attribute_source: record
from_attribute: logID
sampling_priority: priority
"#,
    );
    let mut req = LogsBuilder::new()
        .log_records((0..1000).map(|i| LogRecordBuilder::new().attr("logID", format!("id-{i}"))))
        .build();
    let again = req.clone();
    let dropped = s.process_logs(&mut req);
    let kept = 1000 - dropped;
    assert!((230..=370).contains(&kept), "kept {kept}");
    assert_eq!(req.log_record_count(), kept);
    for r in req.log_records() {
        assert_eq!(
            r.attributes().get_str("sampling.threshold").map(str::len),
            Some(4)
        );
        assert_eq!(
            r.attributes().get_str("sampling.randomness").map(str::len),
            Some(14)
        );
    }
    // Same attribute values, same decisions.
    let mut again = again;
    assert_eq!(s.process_logs(&mut again), dropped);

    let mut req = LogsBuilder::new()
        .log_record(
            LogRecordBuilder::new()
                .attr("logID", "a")
                .attr("priority", 100),
        )
        .log_record(LogRecordBuilder::new().attr("priority", 100))
        .log_record(LogRecordBuilder::new())
        .build();
    let none = sampler(
        "sampling_percentage: 0\nattribute_source: record\nfrom_attribute: logID\nsampling_priority: priority",
    );
    assert_eq!(
        none.process_logs(&mut req),
        1,
        "priority 100 keeps records, even without randomness"
    );
}

#[test]
fn logs_use_the_trace_id_by_default() {
    let s = sampler("sampling_percentage: 50");
    let mut rng = SplitMix(3);
    let ids: Vec<[u8; 16]> = (0..200).map(|_| rng.trace_id()).collect();
    let mut req = LogsBuilder::new()
        .log_records(ids.iter().map(|id| LogRecordBuilder::new().trace_id(*id)))
        .build();
    s.process_logs(&mut req);
    // A log record and a span with the same trace id get the same decision.
    let kept: Vec<bool> = ids
        .iter()
        .map(|id| {
            req.log_records()
                .any(|r| r.trace_id().map(|t| t.to_bytes()) == Some(*id))
        })
        .collect();
    for (id, kept) in ids.iter().zip(kept) {
        assert_eq!(s.keeps_trace_id(*id), kept);
    }
    let mut no_id = LogsBuilder::new()
        .log_record(LogRecordBuilder::new())
        .build();
    assert_eq!(
        s.process_logs(&mut no_id),
        1,
        "missing randomness fails closed"
    );
}

#[test]
fn config_parsing_and_validation() {
    let c = ProbabilisticSamplerConfig::from_yaml("sampling_percentage: 15.3\nhash_seed: 22")
        .unwrap_or_default();
    assert_eq!(c.sampling_percentage, 15.3);
    assert_eq!(c.hash_seed, 22);
    assert!(c.fail_closed);
    assert_eq!(c.sampling_precision, 4);
    assert_eq!(c.attribute_source, "traceID");
    assert!(c.validate().is_ok());
    for (yaml, field) in [
        ("sampling_percentage: -1", "sampling_percentage"),
        ("sampling_percentage: .nan", "sampling_percentage"),
        ("sampling_percentage: 1e-30", "sampling_percentage"),
        (
            "sampling_percentage: 10\nattribute_source: span",
            "attribute_source",
        ),
        (
            "sampling_percentage: 10\nsampling_precision: 0",
            "sampling_precision",
        ),
        (
            "sampling_percentage: 10\nsampling_precision: 15",
            "sampling_precision",
        ),
    ] {
        match ProbabilisticSamplerConfig::from_yaml(yaml).and_then(|c| c.build()) {
            Err(ConfigError::InvalidField { field: f, .. }) => assert_eq!(f, field, "{yaml}"),
            other => panic!("{yaml}: {other:?}"),
        }
    }
    assert!(matches!(
        ProbabilisticSamplerConfig::from_yaml("mode: fancy"),
        Err(ConfigError::Parse { .. })
    ));
    assert!(matches!(
        ProbabilisticSamplerConfig::from_yaml("sampling_rate: 1"),
        Err(ConfigError::Parse { .. })
    ));
    assert!(matches!(
        ProbabilisticSamplerConfig::from_yaml("hash_seed: -1"),
        Err(ConfigError::Parse { .. })
    ));
    // Mode defaults as in otelcol.
    let s = sampler("sampling_percentage: 10");
    assert!(matches!(s.traces, Kind::Proportional { .. }));
    let s = sampler("sampling_percentage: 10\nhash_seed: 1");
    assert!(matches!(s.traces, Kind::Hashing(_)));
    let s = sampler("sampling_percentage: 10\nattribute_source: record\nfrom_attribute: x");
    assert!(matches!(s.traces, Kind::Proportional { .. }));
    assert!(matches!(s.logs, Kind::Hashing(_)));
}
