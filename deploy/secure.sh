#!/usr/bin/env bash
# One command for a secured local cluster: 3 coordd servers and 3 brokers on loopback.
#   deploy/secure.sh [start] [DIR]    set up (first run) and start; prints the client settings
#   deploy/secure.sh stop [DIR]       stop everything started from DIR
# What it sets up (docs/security.md):
#   DIR/certs      a CA, server and client certificates (deploy/certs.sh)
#   DIR/secrets    the coordd quorum secret and the SCRAM passwords of admin, broker and app (mode 0600)
#   coordd         quorum.auth.secretFile on the peer links; a TLS client port (client certificate required);
#                  client SASL DIGEST-MD5 with users kafka (the brokers) and console (JAAS Server section)
#   SCRAM users    admin, broker, app and console (SCRAM-SHA-256 and -512), written to coordd (logged in as
#                  kafka, readable by it alone) before the brokers start
#   brokers        EXTERNAL (clients) and INTERNAL (inter-broker) listeners, both SASL_SSL with SCRAM;
#                  TLS to coordd's secure port with the client certificate (zookeeper.ssl.*), logged in
#                  with SASL (KAFKA_OPTS JAAS Client section) and zookeeper.set.acl=true;
#                  Kafka's ACL authorizer with super.users=User:admin;User:broker
#   ACLs           app: Read, Write, Describe on topic APP_TOPIC (default board), Read on group APP_GROUP
#                  (default demo); console: Read and DescribeConfigs on every topic, Describe on every
#                  group, Describe and DescribeConfigs on the cluster (kafkactl acls, as admin)
#   DIR/client.properties   Kafka client keys for user app (kafkactl --command-config, Kafka's own tools)
#   DIR/kcat.conf           the same for kcat/librdkafka (kcat -F DIR/kcat.conf)
#   DIR/admin.properties    the same for user admin (a super user: topics, ACLs)
#   DIR/console.properties  a read-only console (listener 127.0.0.1:CONSOLE_PORT, default 8080) on both sides
# Ports: ENSEMBLE_BASE (default 24000; coordd plaintext +N, TLS +400+N, see deploy/ensemble.sh) and
# BROKER_PORT_BASE (default 24500; EXTERNAL +id, broker admin +100+id, INTERNAL +200+id).
# COORDKAFKA_BIN=dir uses binaries from there instead of building release ones.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-start}
case "$cmd" in start|stop) shift || true ;; *) cmd=start ;; esac
dir=${1:-/tmp/coordkafka-secure}
zkbase=${ENSEMBLE_BASE:-24000}
kbase=${BROKER_PORT_BASE:-24500}
app_topic=${APP_TOPIC:-board}
app_group=${APP_GROUP:-demo}

stop_all() {
    local pids=()
    for p in "$dir"/broker*.pid "$dir"/console.pid; do
        [ -f "$p" ] || continue
        pids+=("$(cat "$p")")
        kill -TERM "$(cat "$p")" 2>/dev/null || true
        rm -f "$p"
    done
    # The brokers' controlled shutdown needs coordd: wait for them (30 s at most) before stopping it.
    for _ in $(seq 1 300); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    bash deploy/ensemble.sh stop "$dir/ensemble"
}
if [ "$cmd" = stop ]; then
    stop_all
    exit 0
fi
# A start that fails half-way stops what it started.
trap 'rc=$?; [ "$rc" = 0 ] || stop_all; exit "$rc"' EXIT

if [ -n "${COORDKAFKA_BIN:-}" ]; then
    bin=$COORDKAFKA_BIN
else
    for p in coordd brokerd kafkactl; do swift build -c release --product "$p" >/dev/null; done
    bin=$(swift build -c release --show-bin-path)
fi
# Every port must be free: a coordd or broker already there (another cluster) would be talked to instead.
for i in 1 2 3; do
    for p in $((zkbase + i)) $((zkbase + 100 + i)) $((zkbase + 200 + i)) $((zkbase + 300 + i)) $((zkbase + 400 + i)) \
             $((kbase + i)) $((kbase + 100 + i)) $((kbase + 200 + i)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "secure: port $p is in use (another cluster?); stop it or set ENSEMBLE_BASE / BROKER_PORT_BASE" >&2
            trap - EXIT
            exit 1
        fi
    done
done
mkdir -p "$dir/secrets"
chmod 700 "$dir/secrets"

echo "== certificates ($dir/certs)" >&2
[ -s "$dir/certs/ca.pem" ] || CERTS_CA_NAME="coordkafka local CA" CERTS_CLIENT_SUBJECT="/O=coordkafka/CN=coordd-client" \
    bash deploy/certs.sh "$dir/certs" >/dev/null

# Random passwords, made once and kept in DIR/secrets (never printed in logs).
password() {
    local f="$dir/secrets/$1.password"
    [ -s "$f" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$f")
    cat "$f"
}
admin_pw=$(password admin)
broker_pw=$(password broker)
app_pw=$(password app)
console_pw=$(password console)
zk_kafka_pw=$(password coordd-kafka)
zk_console_pw=$(password coordd-console)
# JAAS files: coordd's users (Server), the brokers' and the console's logins to coordd (Client).
(umask 077
cat > "$dir/secrets/coordd-jaas.conf" <<JAAS
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_kafka="$zk_kafka_pw"
    user_console="$zk_console_pw";
};
JAAS
client_jaas() {  # client_jaas FILE USER PASSWORD: a JAAS Client section logging in to coordd
    cat > "$1" <<JAAS
Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="$2"
    password="$3";
};
JAAS
}
client_jaas "$dir/secrets/broker-jaas.conf" kafka "$zk_kafka_pw"
client_jaas "$dir/secrets/console-jaas.conf" console "$zk_console_pw"
)

echo "== coordd ensemble (quorum secret, TLS client port, client SASL)" >&2
mkdir -p "$dir/ensemble"
[ -s "$dir/ensemble/quorum.secret" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/ensemble/quorum.secret")
zk=$(SECURE_CERTS="$dir/certs" SASL_JAAS="$dir/secrets/coordd-jaas.conf" COORDD="$bin/coordd" bash deploy/ensemble.sh start 3 "$dir/ensemble" "$zkbase" 2> "$dir/ensemble.log") \
    || { cat "$dir/ensemble.log" >&2; exit 1; }
zk_tls="127.0.0.1:$((zkbase + 401)),127.0.0.1:$((zkbase + 402)),127.0.0.1:$((zkbase + 403))"

echo "== SCRAM users admin, broker, app, console" >&2
# Kafka's ZooKeeper form of a SCRAM credential: /config/users/<user> = {"version":1,"config":{"SCRAM-SHA-512":"salt=…,stored_key=…,server_key=…,iterations=…"}}
# Written logged in as kafka (the brokers' coordd user) with the ACLs zookeeper.set.acl gives them:
# the chroot and /config readable by all, /config/users by kafka alone.
ZK="$zk" ZK_PW="$zk_kafka_pw" ADMIN_PW="$admin_pw" BROKER_PW="$broker_pw" APP_PW="$app_pw" CONSOLE_PW="$console_pw" python3 - <<'PY'
import base64, hashlib, hmac, json, os, warnings
warnings.simplefilter("ignore")
from kazoo.client import KazooClient
from kazoo.security import make_acl
def cred(name, pw, iterations=8192):
    salt = os.urandom(24)
    salted = hashlib.pbkdf2_hmac(name, pw.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", name).digest()
    server_key = hmac.new(salted, b"Server Key", name).digest()
    b = lambda x: base64.b64encode(x).decode()
    return "salt=%s,stored_key=%s,server_key=%s,iterations=%d" % (b(salt), b(hashlib.new(name, client_key).digest()), b(server_key), iterations)
zk = KazooClient(hosts=os.environ["ZK"], timeout=15,
                 sasl_options={"mechanism": "DIGEST-MD5", "username": "kafka", "password": os.environ["ZK_PW"]})
zk.start(timeout=30)
owner = make_acl("sasl", "kafka", all=True)
readable = [owner, make_acl("world", "anyone", read=True)]
for path, acl in [("/kafka", readable), ("/kafka/config", readable), ("/kafka/config/users", [owner])]:
    if not zk.exists(path):
        zk.create(path, b"", acl=acl)
for user, env in [("admin", "ADMIN_PW"), ("broker", "BROKER_PW"), ("app", "APP_PW"), ("console", "CONSOLE_PW")]:
    pw = os.environ[env]
    data = json.dumps({"version": 1, "config": {"SCRAM-SHA-256": cred("sha256", pw), "SCRAM-SHA-512": cred("sha512", pw)}}).encode()
    path = "/kafka/config/users/" + user
    if zk.exists(path):
        zk.set(path, data)
    else:
        zk.create(path, data, acl=[owner])
zk.stop()
PY

echo "== brokers 1..3 (SASL_SSL, SCRAM, ACL authorizer; TLS and SASL to coordd, zookeeper.set.acl)" >&2
bootstrap=""
for id in 1 2 3; do
    ext=$((kbase + id)); int=$((kbase + 200 + id))
    cfg="$dir/server$id.properties"
    (umask 077; cat > "$cfg" <<PROPS
broker.id=$id
listeners=EXTERNAL://127.0.0.1:$ext,INTERNAL://127.0.0.1:$int
listener.security.protocol.map=EXTERNAL:SASL_SSL,INTERNAL:SASL_SSL
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$broker_pw";
ssl.keystore.type=PEM
ssl.keystore.location=$dir/certs/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/certs/ca.pem
ssl.endpoint.identification.algorithm=https
zookeeper.connect=$zk_tls/kafka
zookeeper.ssl.client.enable=true
zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
zookeeper.ssl.keystore.type=PEM
zookeeper.ssl.keystore.location=$dir/certs/client-keystore.pem
zookeeper.ssl.truststore.type=PEM
zookeeper.ssl.truststore.location=$dir/certs/ca.pem
# The SASL login to coordd is the JAAS Client section of KAFKA_OPTS' file; znodes get Kafka's secure ACLs.
zookeeper.set.acl=true
authorizer.class.name=kafka.security.authorizer.AclAuthorizer
super.users=User:admin;User:broker
log.dirs=$dir/kafka-logs-$id
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
replica.lag.time.max.ms=10000
group.initial.rebalance.delay.ms=0
zookeeper.session.timeout.ms=6000
# The admin HTTP server is not authenticated: loopback only (docs/security.md).
admin.listener=127.0.0.1:$((kbase + 100 + id))
PROPS
    )
    : > "$dir/broker$id.log"
    KAFKA_OPTS="-Djava.security.auth.login.config=$dir/secrets/broker-jaas.conf" \
        "$bin/brokerd" "$cfg" > /dev/null 2> "$dir/broker$id.log" &
    echo $! > "$dir/broker$id.pid"
    bootstrap="${bootstrap:+$bootstrap,}127.0.0.1:$ext"
done
for id in 1 2 3; do
    for _ in $(seq 1 200); do grep -q "brokerd: started" "$dir/broker$id.log" && break; sleep 0.1; done
    grep -q "brokerd: started" "$dir/broker$id.log" || { echo "secure: broker $id did not start: $(tail -3 "$dir/broker$id.log")" >&2; exit 1; }
done

(umask 077
cat > "$dir/client.properties" <<PROPS
bootstrap.servers=$bootstrap
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="$app_pw";
sasl.username=app
sasl.password=$app_pw
ssl.truststore.type=PEM
ssl.truststore.location=$dir/certs/ca.pem
PROPS
cat > "$dir/kcat.conf" <<PROPS
bootstrap.servers=$bootstrap
security.protocol=SASL_SSL
sasl.mechanisms=SCRAM-SHA-512
sasl.username=app
sasl.password=$app_pw
ssl.ca.location=$dir/certs/ca.pem
PROPS
cat > "$dir/admin.properties" <<PROPS
bootstrap.servers=$bootstrap
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.username=admin
sasl.password=$admin_pw
ssl.truststore.type=PEM
ssl.truststore.location=$dir/certs/ca.pem
PROPS
admins=""
for i in 1 2 3; do admins="${admins:+$admins,}127.0.0.1:$((zkbase + 300 + i)),127.0.0.1:$((kbase + 100 + i))"; done
cat > "$dir/console.properties" <<PROPS
listener=127.0.0.1:${CONSOLE_PORT:-8080}
read.only=true
admin.endpoints=$admins
# The brokers: Kafka's client keys, as user console (read-only ACLs).
bootstrap.servers=$bootstrap
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="console" password="$console_pw";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/certs/ca.pem
# coordd: its TLS port with the client certificate, logged in as console (JAAS Client section).
zookeeper.connect=$zk_tls/kafka
zookeeper.ssl.client.enable=true
zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
zookeeper.ssl.keystore.type=PEM
zookeeper.ssl.keystore.location=$dir/certs/client-keystore.pem
zookeeper.ssl.truststore.type=PEM
zookeeper.ssl.truststore.location=$dir/certs/ca.pem
java.security.auth.login.config=$dir/secrets/console-jaas.conf
PROPS
)

# The cluster answers an authenticated client once all three brokers are in its metadata.
for _ in $(seq 1 150); do
    n=$(kcat -F "$dir/kcat.conf" -L -J 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["brokers"]))' 2>/dev/null || echo 0)
    [ "$n" = 3 ] && break
    sleep 0.2
done
[ "$n" = 3 ] || { echo "secure: the brokers did not come up (see $dir/broker*.log)" >&2; exit 1; }

echo "== ACLs (as admin): app on topic $app_topic and group $app_group; console read-only" >&2
acl() { "$bin/kafkactl" acls --bootstrap-server "$bootstrap" --command-config "$dir/admin.properties" --add "$@" > /dev/null; }
acl --allow-principal User:app --operation Read --operation Write --operation Describe --topic "$app_topic"
acl --allow-principal User:app --operation Read --group "$app_group"
acl --allow-principal User:console --operation Read --operation DescribeConfigs --topic '*'
acl --allow-principal User:console --operation Describe --group '*'
acl --allow-principal User:console --operation Describe --operation DescribeConfigs --cluster

cat <<EOF
secured cluster up: coordd $zk (TLS $zk_tls), brokers $bootstrap (SASL_SSL, SCRAM-SHA-512)
bootstrap=$bootstrap
client.properties=$dir/client.properties
kcat.conf=$dir/kcat.conf
admin.properties=$dir/admin.properties
console.properties=$dir/console.properties
try:  $bin/kafkactl topics --bootstrap-server $bootstrap --create --topic $app_topic --command-config $dir/admin.properties
      echo hello | kcat -F $dir/kcat.conf -P -t $app_topic && kcat -F $dir/kcat.conf -C -t $app_topic -e
      $bin/kafkactl topics --bootstrap-server $bootstrap --list --command-config $dir/client.properties
stop: deploy/secure.sh stop $dir
EOF
