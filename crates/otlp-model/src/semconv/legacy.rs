//! Deprecated keys that instrumentation in the field still emits.
//!
//! These are not marked `#[deprecated]`: reading them from received data (to translate or
//! route it) is legitimate, and a warning on every such read would only be silenced. New data
//! should use the replacement named on each constant.

/// Replaced by [`resource::DEPLOYMENT_ENVIRONMENT_NAME`](super::resource::DEPLOYMENT_ENVIRONMENT_NAME).
pub const DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";
/// Replaced by [`resource::CONTAINER_RUNTIME_NAME`](super::resource::CONTAINER_RUNTIME_NAME).
pub const CONTAINER_RUNTIME: &str = "container.runtime";

/// Replaced by [`trace::HTTP_REQUEST_METHOD`](super::trace::HTTP_REQUEST_METHOD).
pub const HTTP_METHOD: &str = "http.method";
/// Replaced by [`trace::HTTP_RESPONSE_STATUS_CODE`](super::trace::HTTP_RESPONSE_STATUS_CODE).
pub const HTTP_STATUS_CODE: &str = "http.status_code";
/// Replaced by [`trace::URL_FULL`](super::trace::URL_FULL).
pub const HTTP_URL: &str = "http.url";
/// Replaced by [`trace::URL_PATH`](super::trace::URL_PATH) and [`trace::URL_QUERY`](super::trace::URL_QUERY).
pub const HTTP_TARGET: &str = "http.target";
/// Replaced by [`trace::URL_SCHEME`](super::trace::URL_SCHEME).
pub const HTTP_SCHEME: &str = "http.scheme";
/// Replaced by [`trace::USER_AGENT_ORIGINAL`](super::trace::USER_AGENT_ORIGINAL).
pub const HTTP_USER_AGENT: &str = "http.user_agent";
/// Replaced by [`trace::SERVER_ADDRESS`](super::trace::SERVER_ADDRESS) (client side).
pub const NET_PEER_NAME: &str = "net.peer.name";
/// Replaced by [`trace::SERVER_PORT`](super::trace::SERVER_PORT) (client side).
pub const NET_PEER_PORT: &str = "net.peer.port";
/// Replaced by [`trace::SERVER_ADDRESS`](super::trace::SERVER_ADDRESS) (server side).
pub const NET_HOST_NAME: &str = "net.host.name";
/// Replaced by [`trace::SERVER_PORT`](super::trace::SERVER_PORT) (server side).
pub const NET_HOST_PORT: &str = "net.host.port";

/// Replaced by [`trace::RPC_SYSTEM_NAME`](super::trace::RPC_SYSTEM_NAME).
pub const RPC_SYSTEM: &str = "rpc.system";
/// Folded into the fully qualified [`trace::RPC_METHOD`](super::trace::RPC_METHOD).
pub const RPC_SERVICE: &str = "rpc.service";
/// Numeric gRPC status; replaced by the string [`trace::RPC_RESPONSE_STATUS_CODE`](super::trace::RPC_RESPONSE_STATUS_CODE).
pub const RPC_GRPC_STATUS_CODE: &str = "rpc.grpc.status_code";

/// Replaced by [`trace::MESSAGING_OPERATION_TYPE`](super::trace::MESSAGING_OPERATION_TYPE).
pub const MESSAGING_OPERATION: &str = "messaging.operation";
/// Replaced by [`trace::MESSAGING_CONSUMER_GROUP_NAME`](super::trace::MESSAGING_CONSUMER_GROUP_NAME).
pub const MESSAGING_KAFKA_CONSUMER_GROUP: &str = "messaging.kafka.consumer.group";
/// Replaced by [`trace::MESSAGING_KAFKA_OFFSET`](super::trace::MESSAGING_KAFKA_OFFSET).
pub const MESSAGING_KAFKA_MESSAGE_OFFSET: &str = "messaging.kafka.message.offset";

/// Replaced by [`trace::DB_SYSTEM_NAME`](super::trace::DB_SYSTEM_NAME).
pub const DB_SYSTEM: &str = "db.system";
/// Replaced by [`trace::DB_NAMESPACE`](super::trace::DB_NAMESPACE).
pub const DB_NAME: &str = "db.name";
/// Replaced by [`trace::DB_QUERY_TEXT`](super::trace::DB_QUERY_TEXT).
pub const DB_STATEMENT: &str = "db.statement";
/// Replaced by [`trace::DB_OPERATION_NAME`](super::trace::DB_OPERATION_NAME).
pub const DB_OPERATION: &str = "db.operation";

/// Replaced by [`trace::CODE_FUNCTION_NAME`](super::trace::CODE_FUNCTION_NAME).
pub const CODE_FUNCTION: &str = "code.function";
/// Replaced by [`trace::CODE_FILE_PATH`](super::trace::CODE_FILE_PATH).
pub const CODE_FILEPATH: &str = "code.filepath";
/// Replaced by [`trace::CODE_LINE_NUMBER`](super::trace::CODE_LINE_NUMBER).
pub const CODE_LINENO: &str = "code.lineno";
