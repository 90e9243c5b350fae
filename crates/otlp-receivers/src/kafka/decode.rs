//! From a Kafka message to [`Telemetry`]: the value in the signal's encoding, the headers and
//! the message's place as request metadata (`kafka.topic`, `kafka.partition`, `kafka.offset`,
//! then every header, as otelcol does), and the `header_extraction` headers as resource
//! attributes `kafka.header.<name>`.

use bytes::Bytes;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::resource::v1::Resource;
use otlp_transport::kafka::{DecodeError, Encoding};

use otlp_pipeline::Signal;
use otlp_pipeline::data::{ClientInfo, Context, Metadata, Payload, Telemetry};

/// A consumed message, as the worker hands it over.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) value: Bytes,
    /// Headers in order; a value that is not UTF-8 is read lossily.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

/// Reads `message` as `signal` data in `encoding`.
pub(crate) fn telemetry(
    signal: Signal,
    encoding: Encoding,
    message: &Message,
    extract: &[String],
) -> Result<Telemetry, DecodeError> {
    let mut data = match (signal, encoding) {
        (_, Encoding::OtlpProto) => {
            let summary = otlp_proto::wire::validate(signal.wire_request(), &message.value)
                .map_err(|e| DecodeError {
                    signal,
                    encoding: encoding.name(),
                    message: e.to_string(),
                })?;
            Telemetry::from_protobuf(signal, message.value.clone(), Some(summary.items))
        }
        (Signal::Traces, _) => Telemetry::new(Payload::Traces(encoding.decode(&message.value)?)),
        (Signal::Metrics, _) => Telemetry::new(Payload::Metrics(encoding.decode(&message.value)?)),
        (Signal::Profiles, _) => {
            Telemetry::new(Payload::Profiles(encoding.decode(&message.value)?))
        }
        (Signal::Logs, _) => {
            Telemetry::new(Payload::Logs(encoding.decode_log_body(&message.value)?))
        }
    };
    if !extract.is_empty() {
        let attributes: Vec<KeyValue> = extract
            .iter()
            .filter_map(|name| {
                let (_, value) = message.headers.iter().find(|(key, _)| key == name)?;
                Some(KeyValue {
                    key: format!("kafka.header.{name}"),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(
                            String::from_utf8_lossy(value).into_owned(),
                        )),
                    }),
                    ..Default::default()
                })
            })
            .collect();
        if !attributes.is_empty() {
            add_resource_attributes(data.payload_mut(), &attributes);
        }
    }
    let mut metadata = Metadata::new();
    metadata.append("kafka.topic", &message.topic);
    metadata.append("kafka.partition", &message.partition.to_string());
    metadata.append("kafka.offset", &message.offset.to_string());
    for (key, value) in &message.headers {
        metadata.append(key, &String::from_utf8_lossy(value));
    }
    Ok(data.with_context(Context::with_client(
        ClientInfo::new(None).with_metadata(metadata),
    )))
}

fn add_resource_attributes(payload: &mut Payload, attributes: &[KeyValue]) {
    let add = |resource: &mut Option<Resource>| {
        let resource = resource.get_or_insert_with(Resource::default);
        for attribute in attributes {
            resource.attributes.retain(|kv| kv.key != attribute.key);
            resource.attributes.push(attribute.clone());
        }
    };
    match payload {
        Payload::Traces(r) => r
            .resource_spans
            .iter_mut()
            .for_each(|g| add(&mut g.resource)),
        Payload::Metrics(r) => r
            .resource_metrics
            .iter_mut()
            .for_each(|g| add(&mut g.resource)),
        Payload::Logs(r) => r
            .resource_logs
            .iter_mut()
            .for_each(|g| add(&mut g.resource)),
        Payload::Profiles(r) => r
            .resource_profiles
            .iter_mut()
            .for_each(|g| add(&mut g.resource)),
    }
}
