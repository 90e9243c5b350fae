#!/usr/bin/env bash
# kafka-broker: starts one Apache Kafka broker (a single KRaft node that is both broker and
# controller) on loopback, in the background, for the interop tests.
#
# Installed by `cargo xtask peers` (xtask/src/peers/kafka.rs) as target/peers/bin/kafka-broker;
# the jars are in ../kafka/libs/ and the logging config is ../kafka/log4j2.properties, both
# found relative to this script. Needs `java` (17 or newer) and `openssl` on PATH.
#
# usage: kafka-broker [--parent-pid PID] [--wait SECONDS] [--cleanup] DATA_DIR
#                     [PORT CONTROLLER_PORT [SASL_PORT [SSL_PORT SASL_SSL_PORT MTLS_PORT]]]
#
#   DATA_DIR          created if missing; holds server.properties, the KRaft log (kraft/),
#                     broker.log (the broker's output), broker.pid, the TLS files (tls/, see
#                     below) and one file per client listener with its "127.0.0.1:PORT":
#                     bootstrap, sasl_bootstrap, ssl_bootstrap, sasl_ssl_bootstrap and
#                     mtls_bootstrap. Formatted on the first start only (that is when the SCRAM
#                     users are created: a DATA_DIR formatted by an older launcher has none).
#   PORT, CONTROLLER_PORT, SASL_PORT, SSL_PORT, SASL_SSL_PORT, MTLS_PORT
#                     the loopback ports of the listeners PLAINTEXT (also the inter-broker
#                     one), CONTROLLER, SASL_PLAINTEXT, SSL, SASL_SSL and MTLS; those not given
#                     are picked free in 20000-32767.
#
# The client listeners:
#
#   PLAINTEXT       no TLS, no authentication
#   SASL_PLAINTEXT  SASL, no TLS
#   SSL             TLS; a client certificate is requested, not required
#                   (ssl.client.auth=requested), so TLS alone and mutual TLS both work
#   SASL_SSL        SASL over TLS (no client certificate asked for)
#   MTLS            TLS with a client certificate signed by the test CA required
#                   (ssl.client.auth=required; the listener name MTLS maps to the SSL protocol)
#
# The SASL listeners accept the mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, each for one
# user with fixed test credentials (loopback only, for tests only; not secrets):
#
#   user "otel", password "otel-secret"   PLAIN (in each listener's JAAS config), and
#                                          SCRAM-SHA-256 and SCRAM-SHA-512 (created at format
#                                          time, 4096 iterations)
#
# The TLS files are PEM, made with `openssl` when DATA_DIR/tls/ does not hold them yet (on the
# first start) and kept afterwards; throwaway keys, loopback only, for tests only:
#
#   tls/ca.pem               the test CA (EC P-256, self-signed); trust it to reach the broker
#   tls/ca-key.pem           its key
#   tls/server.pem           the broker's certificate (subjectAltName IP:127.0.0.1 and
#                            DNS:localhost, signed by the CA) followed by the CA certificate
#   tls/server-key.pem       its key (PKCS#8)
#   tls/server-keystore.pem  the broker's PEM key store: the key, PKCS#8 encrypted with the
#                            key password "otel-keystore" (Kafka's file-based PEM key stores
#                            need one; PBE-SHA1-3DES, because Java 17 cannot read PBES2), and
#                            the chain of server.pem
#   tls/client.pem           a client certificate (CN otel-client, extendedKeyUsage clientAuth,
#                            signed by the CA), for mutual TLS
#   tls/client-key.pem       its key (PKCS#8, unencrypted)
#
# No ACLs: an authenticated user may do anything; a client that fails to authenticate gets
# nothing.
#   --parent-pid PID  stop the broker (SIGTERM, then SIGKILL after 30 s) once process PID has
#                     exited, so a test process that dies never leaves a broker behind.
#   --wait SECONDS    return only when the broker logged "Kafka Server started"; fail (and stop
#                     it) when it exits first or SECONDS pass.
#   --cleanup         remove DATA_DIR after the broker has exited, however it ends.
#
# Prints on stdout, one a line, "bootstrap=127.0.0.1:PORT", "sasl_bootstrap=127.0.0.1:SASL_PORT",
# "ssl_bootstrap=127.0.0.1:SSL_PORT", "sasl_ssl_bootstrap=127.0.0.1:SASL_SSL_PORT",
# "mtls_bootstrap=127.0.0.1:MTLS_PORT", "tls_dir=DIR" (the absolute DATA_DIR/tls),
# "tls_ca=DIR/ca.pem", "tls_client_cert=DIR/client.pem", "tls_client_key=DIR/client-key.pem"
# and "pid=PID" (the broker's JVM), and exits; the broker keeps running. Stop it with
# `kill PID` (or `kill $(cat DATA_DIR/broker.pid)`).
set -euo pipefail

usage() {
    echo "usage: kafka-broker [--parent-pid PID] [--wait SECONDS] [--cleanup] DATA_DIR" \
        "[PORT CONTROLLER_PORT [SASL_PORT [SSL_PORT SASL_SSL_PORT MTLS_PORT]]]" >&2
    exit 2
}

parent=""
wait_seconds=""
cleanup=0
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --parent-pid) [ $# -ge 2 ] || usage; parent=$2; shift 2 ;;
        --wait) [ $# -ge 2 ] || usage; wait_seconds=$2; shift 2 ;;
        --cleanup) cleanup=1; shift ;;
        -h | --help) usage ;;
        -*) echo "kafka-broker: unknown option $1" >&2; usage ;;
        *) positional+=("$1"); shift ;;
    esac
done
case ${#positional[@]} in
    1 | 3 | 4 | 7) ;;
    *) usage ;;
esac
is_number() { [[ $1 =~ ^[0-9]+$ ]]; }
if [ -n "$parent" ] && ! is_number "$parent"; then usage; fi
if [ -n "$wait_seconds" ] && ! is_number "$wait_seconds"; then usage; fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
home=$(cd "$here/../kafka" 2>/dev/null && pwd) || {
    echo "kafka-broker: $here/../kafka is missing; run \`cargo xtask peers\`" >&2
    exit 1
}
shopt -s nullglob
jars=("$home"/libs/kafka_2.13-*.jar)
shopt -u nullglob
if [ ${#jars[@]} -eq 0 ]; then
    echo "kafka-broker: no kafka_2.13 jar in $home/libs; run \`cargo xtask peers\`" >&2
    exit 1
fi
command -v java >/dev/null || { echo "kafka-broker: java (17 or newer) is not on PATH" >&2; exit 1; }
command -v openssl >/dev/null || { echo "kafka-broker: openssl is not on PATH" >&2; exit 1; }

mkdir -p "${positional[0]}"
dir=$(cd "${positional[0]}" && pwd)

# Whether process $1 exists and is not a zombie.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ] && [ "${stat%% *}" != X ]
}

if [ -f "$dir/broker.pid" ] && alive "$(cat "$dir/broker.pid")"; then
    echo "kafka-broker: a broker (pid $(cat "$dir/broker.pid")) already runs in $dir" >&2
    exit 1
fi

# The local ports of every TCP socket (any state), one per line.
used_ports() {
    local file sl local_address rest
    for file in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$file" ] || continue
        while read -r sl local_address rest; do
            [ "$sl" = sl ] && continue
            echo $((16#${local_address##*:}))
        done <"$file"
    done
}

# A port in 20000-32767 (below Linux's ephemeral range) that no socket uses and is none of
# the arguments.
free_port() {
    local used port tries
    used=" $(used_ports | tr '\n' ' ') $* "
    for tries in $(seq 1 200); do
        port=$((20000 + RANDOM % 12768))
        if [[ $used != *" $port "* ]]; then
            echo "$port"
            return 0
        fi
    done
    echo "kafka-broker: found no free port" >&2
    return 1
}

if [ ${#positional[@]} -ge 3 ]; then
    port=${positional[1]}
    cport=${positional[2]}
    if ! is_number "$port" || ! is_number "$cport"; then usage; fi
else
    port=$(free_port)
    cport=$(free_port "$port")
fi
if [ ${#positional[@]} -ge 4 ]; then
    sport=${positional[3]}
    if ! is_number "$sport"; then usage; fi
else
    sport=$(free_port "$port" "$cport")
fi
if [ ${#positional[@]} -eq 7 ]; then
    tport=${positional[4]}
    stport=${positional[5]}
    mport=${positional[6]}
    if ! is_number "$tport" || ! is_number "$stport" || ! is_number "$mport"; then usage; fi
else
    tport=$(free_port "$port" "$cport" "$sport")
    stport=$(free_port "$port" "$cport" "$sport" "$tport")
    mport=$(free_port "$port" "$cport" "$sport" "$tport" "$stport")
fi

# The TLS files (see the top), made once per DATA_DIR: in tls.partial/, renamed to tls/ when
# complete, so an interrupted start leaves nothing half made.
tls_key_password=otel-keystore
tls="$dir/tls"
tls_files=(ca.pem ca-key.pem server.pem server-key.pem server-keystore.pem client.pem client-key.pem)
tls_complete() {
    local file
    for file in "${tls_files[@]}"; do
        [ -s "$tls/$file" ] || return 1
    done
}
make_tls() {
    local out=$1 serial
    rm -rf "$out"
    mkdir -p "$out"
    chmod 700 "$out"
    cat >"$out/openssl.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
    for key in ca-key server-key client-key; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$key.pem"
    done
    openssl req -x509 -new -config "$out/openssl.cnf" -extensions ca -key "$out/ca-key.pem" \
        -subj "/O=otlp-rs tests/CN=otlp-rs Kafka test CA" -days 3650 -sha256 -out "$out/ca.pem"
    for leaf in server client; do
        case $leaf in
            server) subject="/O=otlp-rs tests/CN=localhost" ;;
            client) subject="/O=otlp-rs tests/CN=otel-client" ;;
        esac
        serial=0x$(openssl rand -hex 12)
        openssl req -new -config "$out/openssl.cnf" -key "$out/$leaf-key.pem" -subj "$subject" \
            -out "$out/$leaf.csr"
        openssl x509 -req -in "$out/$leaf.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" \
            -set_serial "$serial" -days 3650 -sha256 -extfile "$out/openssl.cnf" \
            -extensions "$leaf" -out "$out/$leaf.crt"
        rm -f "$out/$leaf.csr"
    done
    cat "$out/server.crt" "$out/ca.pem" >"$out/server.pem"
    mv "$out/client.crt" "$out/client.pem"
    rm -f "$out/server.crt" "$out/openssl.cnf"
    openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in "$out/server-key.pem" \
        -passout "pass:$tls_key_password" -out "$out/server-keystore.pem"
    cat "$out/server.pem" >>"$out/server-keystore.pem"
}
if ! tls_complete; then
    # In the background so that `set -e` holds inside make_tls (an `if` condition would turn it
    # off there): its first failing command ends it.
    make_tls "$dir/tls.partial" >"$dir/tls.log" 2>&1 &
    if ! wait $!; then
        echo "kafka-broker: making the TLS files with openssl failed:" >&2
        cat "$dir/tls.log" >&2
        exit 1
    fi
    rm -rf "$tls"
    mv "$dir/tls.partial" "$tls"
    tls_complete || { echo "kafka-broker: $tls is incomplete" >&2; exit 1; }
fi

# The test credentials of the SASL_PLAINTEXT listener (see the top).
sasl_user=otel
sasl_password=otel-secret
plain_module=org.apache.kafka.common.security.plain.PlainLoginModule
scram_module=org.apache.kafka.common.security.scram.ScramLoginModule

cat >"$dir/server.properties" <<EOF
# Written by kafka-broker (target/peers/bin/kafka-broker): one KRaft node, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport,SASL_SSL://127.0.0.1:$stport,MTLS://127.0.0.1:$mport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport,SASL_SSL://127.0.0.1:$stport,MTLS://127.0.0.1:$mport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=$plain_module required user_$sasl_user="$sasl_password";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=$scram_module required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$scram_module required;
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=$plain_module required user_$sasl_user="$sasl_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$scram_module required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$scram_module required;
ssl.keystore.type=PEM
ssl.keystore.location=$tls/server-keystore.pem
ssl.key.password=$tls_key_password
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
ssl.endpoint.identification.algorithm=https
listener.name.ssl.ssl.client.auth=requested
listener.name.sasl_ssl.ssl.client.auth=none
listener.name.mtls.ssl.client.auth=required
log.dirs=$dir/kraft
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=3000
EOF

log4j="-Dlog4j2.configurationFile=$home/log4j2.properties"
classpath="$home/libs/*"
log="$dir/broker.log"

if [ ! -f "$dir/kraft/meta.properties" ]; then
    # A cluster id is 16 random bytes in URL-safe base64 without padding (22 characters); one
    # that starts with "-" would read as an option.
    cluster_id=-
    while [ "${cluster_id:0:1}" = - ]; do
        cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    done
    if ! java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "$log4j" -cp "$classpath" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
        --add-scram "SCRAM-SHA-256=[name=$sasl_user,iterations=4096,password=$sasl_password]" \
        --add-scram "SCRAM-SHA-512=[name=$sasl_user,iterations=4096,password=$sasl_password]" \
        >"$dir/format.log" 2>&1; then
        echo "kafka-broker: formatting $dir failed:" >&2
        cat "$dir/format.log" >&2
        exit 1
    fi
fi

rm -f "$dir/broker.pid" "$dir/bootstrap" "$dir/sasl_bootstrap" "$dir/ssl_bootstrap" \
    "$dir/sasl_ssl_bootstrap" "$dir/mtls_bootstrap"
: >"$log"
echo "127.0.0.1:$port" >"$dir/bootstrap"
echo "127.0.0.1:$sport" >"$dir/sasl_bootstrap"
echo "127.0.0.1:$tport" >"$dir/ssl_bootstrap"
echo "127.0.0.1:$stport" >"$dir/sasl_ssl_bootstrap"
echo "127.0.0.1:$mport" >"$dir/mtls_bootstrap"

# The supervisor: the broker's parent, so it reaps it; watches --parent-pid; removes the data
# directory afterwards under --cleanup. Its output goes nowhere, so a caller that reads this
# script's stdout to its end is not kept waiting by it.
(
    java -Xmx512m -XX:+UseSerialGC "$log4j" -cp "$classpath" kafka.Kafka "$dir/server.properties" \
        >>"$log" 2>&1 </dev/null &
    broker=$!
    echo "$broker" >"$dir/broker.pid.partial"
    mv "$dir/broker.pid.partial" "$dir/broker.pid"
    if [ -n "$parent" ]; then
        while alive "$parent" && alive "$broker"; do
            sleep 1
        done
        if alive "$broker"; then
            kill -TERM "$broker" 2>/dev/null || true
            for _ in $(seq 1 300); do
                alive "$broker" || break
                sleep 0.1
            done
            kill -KILL "$broker" 2>/dev/null || true
        fi
    fi
    wait "$broker" 2>/dev/null || true
    if [ "$cleanup" = 1 ]; then
        rm -rf "$dir"
    fi
) </dev/null >/dev/null 2>&1 &

for _ in $(seq 1 100); do
    [ -f "$dir/broker.pid" ] && break
    sleep 0.1
done
if [ ! -f "$dir/broker.pid" ]; then
    echo "kafka-broker: the broker did not start (no $dir/broker.pid)" >&2
    exit 1
fi
pid=$(cat "$dir/broker.pid")

if [ -n "$wait_seconds" ]; then
    deadline=$((SECONDS + wait_seconds))
    until grep -q "Kafka Server started" "$log" 2>/dev/null; do
        if ! alive "$pid"; then
            echo "kafka-broker: the broker exited before it was ready; $log says:" >&2
            tail -n 40 "$log" >&2 || true
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "kafka-broker: the broker was not ready after ${wait_seconds}s; stopping it; $log says:" >&2
            tail -n 40 "$log" >&2 || true
            kill -TERM "$pid" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
fi

echo "bootstrap=127.0.0.1:$port"
echo "sasl_bootstrap=127.0.0.1:$sport"
echo "ssl_bootstrap=127.0.0.1:$tport"
echo "sasl_ssl_bootstrap=127.0.0.1:$stport"
echo "mtls_bootstrap=127.0.0.1:$mport"
echo "tls_dir=$tls"
echo "tls_ca=$tls/ca.pem"
echo "tls_client_cert=$tls/client.pem"
echo "tls_client_key=$tls/client-key.pem"
echo "pid=$pid"
