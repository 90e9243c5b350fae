//! Span and span-event attribute keys (many also appear on metric points and log records).

// ---- HTTP ----------------------------------------------------------------------------------

/// HTTP request method, normalised to a known method or `_OTHER` (`GET`, `POST`).
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// The original request method when [`HTTP_REQUEST_METHOD`] had to be normalised.
pub const HTTP_REQUEST_METHOD_ORIGINAL: &str = "http.request.method_original";
/// HTTP response status code (`200`), an int.
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// Matched route template (`/users/{id}`), low cardinality.
pub const HTTP_ROUTE: &str = "http.route";
/// Ordinal number of this request's resend attempt (redirects and retries).
pub const HTTP_REQUEST_RESEND_COUNT: &str = "http.request.resend_count";
/// Size of the request body in bytes.
pub const HTTP_REQUEST_BODY_SIZE: &str = "http.request.body.size";
/// Size of the response body in bytes.
pub const HTTP_RESPONSE_BODY_SIZE: &str = "http.response.body.size";
/// Prefix of request-header keys: `http.request.header.<lower-case name>` (string array).
pub const HTTP_REQUEST_HEADER_PREFIX: &str = "http.request.header.";
/// Prefix of response-header keys: `http.response.header.<lower-case name>` (string array).
pub const HTTP_RESPONSE_HEADER_PREFIX: &str = "http.response.header.";

// ---- URL -----------------------------------------------------------------------------------

/// Absolute URL (`https://example.com/search?q=otel`), credentials redacted.
pub const URL_FULL: &str = "url.full";
/// URI path component (`/search`).
pub const URL_PATH: &str = "url.path";
/// URI query component without the `?` (`q=otel`).
pub const URL_QUERY: &str = "url.query";
/// URI scheme (`https`).
pub const URL_SCHEME: &str = "url.scheme";
/// URI fragment component without the `#`.
pub const URL_FRAGMENT: &str = "url.fragment";

// ---- server, client, user agent --------------------------------------------------------------

/// Server domain name, IP address or Unix socket name, as the client saw it.
pub const SERVER_ADDRESS: &str = "server.address";
/// Server port number, an int.
pub const SERVER_PORT: &str = "server.port";
/// Client address as the server saw it (possibly from a forwarding header).
pub const CLIENT_ADDRESS: &str = "client.address";
/// Client port number, an int.
pub const CLIENT_PORT: &str = "client.port";
/// Full `User-Agent` header value.
pub const USER_AGENT_ORIGINAL: &str = "user_agent.original";

// ---- network -------------------------------------------------------------------------------

/// Application-layer protocol, lower case (`http`, `amqp`).
pub const NETWORK_PROTOCOL_NAME: &str = "network.protocol.name";
/// Version of the application-layer protocol (`1.1`, `2`, `3`).
pub const NETWORK_PROTOCOL_VERSION: &str = "network.protocol.version";
/// Transport-layer protocol (`tcp`, `udp`, `quic`, `pipe`, `unix`).
pub const NETWORK_TRANSPORT: &str = "network.transport";
/// Network-layer protocol (`ipv4`, `ipv6`).
pub const NETWORK_TYPE: &str = "network.type";
/// Peer address of the network connection (IP address or socket name).
pub const NETWORK_PEER_ADDRESS: &str = "network.peer.address";
/// Peer port of the network connection.
pub const NETWORK_PEER_PORT: &str = "network.peer.port";
/// Local address of the network connection.
pub const NETWORK_LOCAL_ADDRESS: &str = "network.local.address";
/// Local port of the network connection.
pub const NETWORK_LOCAL_PORT: &str = "network.local.port";

// ---- RPC -----------------------------------------------------------------------------------

/// RPC system (`grpc`, `connectrpc`, `dubbo`, `jsonrpc`); replaces
/// [`legacy::RPC_SYSTEM`](super::legacy::RPC_SYSTEM).
pub const RPC_SYSTEM_NAME: &str = "rpc.system.name";
/// Fully qualified RPC method (`com.example.EchoService/Echo`), or `_OTHER` if unrecognised.
pub const RPC_METHOD: &str = "rpc.method";
/// The original method name when [`RPC_METHOD`] had to be set to `_OTHER`.
pub const RPC_METHOD_ORIGINAL: &str = "rpc.method_original";
/// RPC status code as a string (`OK`, `DEADLINE_EXCEEDED`); replaces
/// [`legacy::RPC_GRPC_STATUS_CODE`](super::legacy::RPC_GRPC_STATUS_CODE).
pub const RPC_RESPONSE_STATUS_CODE: &str = "rpc.response.status_code";

// ---- messaging -----------------------------------------------------------------------------

/// Messaging system (`kafka`, `rabbitmq`, `aws_sqs`, ...).
pub const MESSAGING_SYSTEM: &str = "messaging.system";
/// Kind of messaging operation (`create`, `send`, `receive`, `process`, `settle`).
pub const MESSAGING_OPERATION_TYPE: &str = "messaging.operation.type";
/// System-specific name of the messaging operation (`ack`, `send`).
pub const MESSAGING_OPERATION_NAME: &str = "messaging.operation.name";
/// Destination name: the queue or topic (`orders`).
pub const MESSAGING_DESTINATION_NAME: &str = "messaging.destination.name";
/// Partition id within the destination, as a string.
pub const MESSAGING_DESTINATION_PARTITION_ID: &str = "messaging.destination.partition.id";
/// Name of the consumer group a consumer belongs to.
pub const MESSAGING_CONSUMER_GROUP_NAME: &str = "messaging.consumer.group.name";
/// Identifier of the message, as the messaging system assigns it.
pub const MESSAGING_MESSAGE_ID: &str = "messaging.message.id";
/// Conversation (correlation) id of the message.
pub const MESSAGING_MESSAGE_CONVERSATION_ID: &str = "messaging.message.conversation_id";
/// Size of the message body in bytes.
pub const MESSAGING_MESSAGE_BODY_SIZE: &str = "messaging.message.body.size";
/// Number of messages in a batch operation.
pub const MESSAGING_BATCH_MESSAGE_COUNT: &str = "messaging.batch.message_count";
/// Unique id of the producing or consuming client.
pub const MESSAGING_CLIENT_ID: &str = "messaging.client.id";
/// Kafka message key (not unique, unlike the message id).
pub const MESSAGING_KAFKA_MESSAGE_KEY: &str = "messaging.kafka.message.key";
/// Offset of the record in its Kafka partition, an int.
pub const MESSAGING_KAFKA_OFFSET: &str = "messaging.kafka.offset";
/// `true` if the Kafka message is a tombstone.
pub const MESSAGING_KAFKA_MESSAGE_TOMBSTONE: &str = "messaging.kafka.message.tombstone";
/// RabbitMQ routing key of the message.
pub const MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY: &str =
    "messaging.rabbitmq.destination.routing_key";

// ---- database ------------------------------------------------------------------------------

/// Database management system (`postgresql`, `mysql`, `mongodb`, ...); replaces
/// [`legacy::DB_SYSTEM`](super::legacy::DB_SYSTEM).
pub const DB_SYSTEM_NAME: &str = "db.system.name";
/// Database namespace: the database or schema name, as the system defines it.
pub const DB_NAMESPACE: &str = "db.namespace";
/// Database query text, parameterised or sanitised (`SELECT * FROM t WHERE id = ?`).
pub const DB_QUERY_TEXT: &str = "db.query.text";
/// Low-cardinality summary of the query (`SELECT orders`).
pub const DB_QUERY_SUMMARY: &str = "db.query.summary";
/// Name of the operation or command (`SELECT`, `findAndModify`).
pub const DB_OPERATION_NAME: &str = "db.operation.name";
/// Number of queries in a batch operation.
pub const DB_OPERATION_BATCH_SIZE: &str = "db.operation.batch.size";
/// Name of the collection or table operated on.
pub const DB_COLLECTION_NAME: &str = "db.collection.name";
/// Status code returned by the database, as a string (`102`, `ORA-17002`).
pub const DB_RESPONSE_STATUS_CODE: &str = "db.response.status_code";
/// Name of the stored procedure called.
pub const DB_STORED_PROCEDURE_NAME: &str = "db.stored_procedure.name";

// ---- errors and exceptions -------------------------------------------------------------------

/// Class of error the operation ended with (`timeout`, `500`, an exception type).
pub const ERROR_TYPE: &str = "error.type";
/// Name of the span event that records an exception.
pub const EXCEPTION_EVENT_NAME: &str = "exception";
/// Type of the exception, its fully qualified class name where the language has one.
pub const EXCEPTION_TYPE: &str = "exception.type";
/// Exception message.
pub const EXCEPTION_MESSAGE: &str = "exception.message";
/// Stack trace in the language's natural representation.
pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";

// ---- code location -------------------------------------------------------------------------

/// Fully qualified name of the function that ran (`com.example.Cart.add`).
pub const CODE_FUNCTION_NAME: &str = "code.function.name";
/// Source file path of the code.
pub const CODE_FILE_PATH: &str = "code.file.path";
/// Line number in [`CODE_FILE_PATH`].
pub const CODE_LINE_NUMBER: &str = "code.line.number";
/// Column number in [`CODE_FILE_PATH`].
pub const CODE_COLUMN_NUMBER: &str = "code.column.number";
