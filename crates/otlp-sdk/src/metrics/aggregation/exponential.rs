//! TEMPORARY STUB (replaced by the exponential histogram module).
#![allow(missing_docs, dead_code)]
#[derive(Clone, Copy, Debug)]
pub struct ExponentialConfig { pub max_size: usize, pub max_scale: i8, pub record_min_max: bool }
impl ExponentialConfig { pub fn validate(&self) -> Result<(), String> { Ok(()) } }
#[derive(Clone, Debug)]
pub struct ExponentialHistogram { count: u64 }
impl ExponentialHistogram {
    pub fn new(_c: ExponentialConfig) -> Self { Self { count: 0 } }
    pub fn record(&mut self, _v: f64) { self.count += 1 }
    pub fn reset(&mut self) { self.count = 0 }
    pub fn to_proto(&self, start_time_unix_nano: u64, time_unix_nano: u64, attributes: Vec<otlp_proto::common::v1::KeyValue>) -> otlp_proto::metrics::v1::ExponentialHistogramDataPoint {
        otlp_proto::metrics::v1::ExponentialHistogramDataPoint { start_time_unix_nano, time_unix_nano, attributes, count: self.count, ..Default::default() }
    }
}
