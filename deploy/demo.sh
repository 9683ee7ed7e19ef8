#!/usr/bin/env bash
# The main job: a local coordd ensemble (3 servers) and 3 brokers on loopback doing real work.
#   1. start the ensemble, then the brokers (the classic order)
#   2. create topic `board` (3 partitions, replication factor 3)
#   3. produce 3,000 keyed records with acks=all (kcat), consume them back, show consumer-group lag
#   4. show the znode layout an operator knows from Kafka (zkCli.sh)
#   5. kill -9 the leader broker of partition 0, show the new leader, read every record again
#   6. print the merged coordination timeline of the daemons' admin servers (kafkactl timeline)
#   7. restart that broker and watch it rejoin every ISR
# The operator console (read-only) runs alongside from step 1b on: its URL is printed there
# (CONSOLE_PORT, default 8080). DEMO_KEEP=1 keeps everything running at the end until Ctrl-C, for
# the guided lab (docs/lab.md, deploy/lab.sh). The daemons' fault controls are on (loopback only).
# Everything lives under ${DEMO_DIR:-/tmp/coordkafka-demo}; it is stopped on exit. DEMO_BIN=DIR
# uses binaries already built there instead of a release build.
# --secure runs the same steps on the secured cluster of deploy/secure.sh (TLS + SCRAM everywhere,
# quorum secret, coordd client SASL with zookeeper.set.acl, Kafka's ACL authorizer; every client uses
# its printed client config: the app user for the records, the admin for the topic). The console runs
# there too (read-only, its own SASL user and read-only ACLs), and an operation the app user has no
# ACL for is shown refused.
set -euo pipefail
secure=0
[ "${1:-}" = "--secure" ] && secure=1
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
dir=${DEMO_DIR:-/tmp/coordkafka-demo}
rm -rf "$dir"; mkdir -p "$dir"
if [ -n "${DEMO_BIN:-}" ]; then
    bin=$DEMO_BIN
else
    echo "== building (release)"
    swift build -c release --product coordd >/dev/null
    swift build -c release --product brokerd >/dev/null
    swift build -c release --product kafkactl >/dev/null
    swift build -c release --product console >/dev/null
    bin=$(swift build -c release --show-bin-path)
fi
# What deploy/lab.sh needs to find and restart everything.
cat > "$dir/lab.env" <<ENV
bin=$bin
dir=$dir
ENV
cleanup() {
    [ "$secure" = 1 ] && { bash deploy/secure.sh stop "$dir/secure" || true; }
    # Pid files, not shell jobs: the lab restarts daemons from its own shell.
    for p in "$dir"/broker*.pid "$dir"/console.pid; do
        [ -f "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null || true
    done
    COORDD="$bin/coordd" bash deploy/ensemble.sh stop "$dir/ensemble" || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

# Extra arguments for kcat and kafkactl: the secured cluster's client configs (none on the plain one),
# and where the brokers' configs and pid files are.
kc=()
kx=()
# kafkactl as the admin, for creating topics (the same as kx on the plain cluster).
kxa=()
brokers="$dir"

# The unsecured cluster: the ensemble, the brokers on PLAINTEXT, the console.
start_plain_cluster() {
echo "== 1. coordd ensemble (3 servers)"
zk=$(COORDD="$bin/coordd" FAULTS=1 bash deploy/ensemble.sh start 3 "$dir/ensemble" 21810)
echo "   connect string: $zk"
for i in 1 2 3; do printf '   server %s: ' "$i"; (exec 3<>/dev/tcp/127.0.0.1/$((21810 + i)); printf srvr >&3; grep Mode <&3) ; done

echo "== 1b. brokers 1..3"
bootstrap=""
for id in 1 2 3; do
    port=$((29090 + id))
    cat > "$dir/server$id.properties" <<PROPS
broker.id=$id
listeners=PLAINTEXT://127.0.0.1:$port
log.dirs=$dir/kafka-logs-$id
zookeeper.connect=$zk/kafka
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
replica.lag.time.max.ms=10000
group.initial.rebalance.delay.ms=0
# A dead broker's /brokers/ids node goes when its session expires: keep that short for the demo.
zookeeper.session.timeout.ms=6000
# Admin server: /metrics, /v1/cluster, /v1/topics, /v1/groups, /health, /timeline (docs/operations.md).
admin.listener=127.0.0.1:$((29190 + id))
# The lab's experiments: fault controls (loopback only), retention and compaction within seconds.
faults.enable=true
log.retention.check.interval.ms=2000
log.cleaner.backoff.ms=2000
PROPS
    "$bin/brokerd" "$dir/server$id.properties" > /dev/null 2> "$dir/broker$id.log" &
    echo $! > "$dir/broker$id.pid"
    bootstrap="${bootstrap:+$bootstrap,}127.0.0.1:$port"
done
for _ in $(seq 1 100); do
    n=$(kcat "${kc[@]}" -b "$bootstrap" -L -J 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["brokers"]))' 2>/dev/null || echo 0)
    [ "$n" = 3 ] && break
    sleep 0.2
done
echo "   brokers registered: $n"

console_port=${CONSOLE_PORT:-8080}
cat > "$dir/console.properties" <<PROPS
listener=127.0.0.1:$console_port
bootstrap.servers=$bootstrap
zookeeper.connect=$zk/kafka
read.only=true
admin.endpoints=127.0.0.1:22111,127.0.0.1:22112,127.0.0.1:22113,127.0.0.1:29191,127.0.0.1:29192,127.0.0.1:29193
PROPS
"$bin/console" "$dir/console.properties" > /dev/null 2> "$dir/console.log" &
echo $! > "$dir/console.pid"
for _ in $(seq 1 50); do grep -q "console: started" "$dir/console.log" 2>/dev/null && break; sleep 0.1; done
if grep -q "console: started" "$dir/console.log"; then
    echo "   console: http://127.0.0.1:$console_port/ (read-only; docs/console.md)"
else
    echo "   console did not start: $(tail -1 "$dir/console.log")"
fi
}

if [ "$secure" = 1 ]; then
    echo "== 1. secured cluster (deploy/secure.sh: coordd ensemble with quorum secret and TLS port, 3 brokers on SASL_SSL)"
    console_port=${CONSOLE_PORT:-8080}
    COORDKAFKA_BIN="$bin" ENSEMBLE_BASE=21810 BROKER_PORT_BASE=29090 CONSOLE_PORT="$console_port" APP_TOPIC=board APP_GROUP=demo \
        bash deploy/secure.sh start "$dir/secure" | sed 's/^/   /'
    zk="127.0.0.1:21811,127.0.0.1:21812,127.0.0.1:21813"
    bootstrap="127.0.0.1:29091,127.0.0.1:29092,127.0.0.1:29093"
    brokers="$dir/secure"
    kc=(-q -F "$dir/secure/kcat.conf")
    kx=(--command-config "$dir/secure/client.properties")
    kxa=(--command-config "$dir/secure/admin.properties")
    "$bin/console" "$dir/secure/console.properties" > /dev/null 2> "$dir/console.log" &
    echo $! > "$dir/console.pid"
    for _ in $(seq 1 50); do grep -q "console: started" "$dir/console.log" 2>/dev/null && break; sleep 0.1; done
    if grep -q "console: started" "$dir/console.log"; then
        echo "   console: http://127.0.0.1:$console_port/ (read-only; SASL_SSL to the brokers, TLS + SASL to coordd)"
    else
        echo "   console did not start: $(tail -1 "$dir/console.log")"
    fi
else
    start_plain_cluster
fi

echo "== 2. topic board (3 partitions, RF 3)"
[ "$secure" = 1 ] && echo "   (created by the admin: the app user has Read, Write and Describe on board, not Create)"
"$bin/kafkactl" "${kxa[@]}" topics --bootstrap-server "$bootstrap" --create --topic board --partitions 3 --replication-factor 3
sleep 1
"$bin/kafkactl" "${kx[@]}" topics --bootstrap-server "$bootstrap" --describe --topic board

echo "== 3. produce 3000 keyed records (acks=all), consume them back"
for i in $(seq 1 3000); do echo "user$((i % 50)):post $i"; done > "$dir/records.txt"
kcat "${kc[@]}" -b "$bootstrap" -P -t board -K: -X acks=all -l "$dir/records.txt"
got=$(kcat "${kc[@]}" -b "$bootstrap" -C -t board -o beginning -e -q | wc -l)
echo "   consumed $got records"
"$bin/kafkactl" "${kx[@]}" console-consumer --bootstrap-server "$bootstrap" --topic board --group demo --from-beginning --max-messages 3000 --timeout-ms 20000 > /dev/null
"$bin/kafkactl" "${kx[@]}" consumer-groups --bootstrap-server "$bootstrap" --describe --group demo
if [ "$secure" = 1 ]; then
    echo "== 3b. the ACLs at work: the app user writing to a topic it has no ACL for"
    "$bin/kafkactl" "${kxa[@]}" acls --bootstrap-server "$bootstrap" --list --topic board | sed 's/^/   /'
    "$bin/kafkactl" "${kxa[@]}" topics --bootstrap-server "$bootstrap" --create --topic audit --partitions 1 --replication-factor 3 | sed 's/^/   /'
    if refused=$(echo "not allowed" | kcat -F "$dir/secure/kcat.conf" -b "$bootstrap" -P -t audit 2>&1); then
        echo "== demo FAILED: the app user could write to audit"; exit 1
    fi
    echo "   app -> audit: $(echo "$refused" | grep -v '^% Reading' | tail -1) (refused, as it should be)"
fi

echo "== 4. znode layout"
/usr/share/zookeeper/bin/zkCli.sh -server "${zk%%,*}" ls -R /kafka 2>/dev/null | grep -E '^/kafka/(brokers/ids/|brokers/topics/board|controller|admin|config/topics)' || true
/usr/share/zookeeper/bin/zkCli.sh -server "${zk%%,*}" get /kafka/brokers/topics/board/partitions/0/state 2>/dev/null | grep '^{' || true

echo "== 5. kill -9 the leader of board-0"
leader=$(kcat "${kc[@]}" -b "$bootstrap" -L -t board -J | python3 -c 'import json,sys; m=json.load(sys.stdin); print([p["leader"] for p in m["topics"][0]["partitions"] if p["partition"]==0][0])')
echo "   leader of board-0 is broker $leader; killing it"
victim=$(cat "$brokers/broker$leader.pid")
{ kill -9 "$victim"; wait "$victim"; } 2>/dev/null || true
start=$(date +%s.%N)
for _ in $(seq 1 300); do
    now=$(kcat "${kc[@]}" -b "$bootstrap" -L -t board -J 2>/dev/null | python3 -c 'import json,sys; m=json.load(sys.stdin); print([p["leader"] for p in m["topics"][0]["partitions"] if p["partition"]==0][0])' 2>/dev/null || echo "$leader")
    [ "$now" != "$leader" ] && [ "$now" != "-1" ] && break
    sleep 0.1
done
printf '   new leader of board-0: broker %s, %.1f s after the kill (session timeout 6 s)\n' "$now" "$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$start" "$(date +%s.%N)")"
"$bin/kafkactl" "${kx[@]}" topics --bootstrap-server "$bootstrap" --describe --topic board
got=$(kcat "${kc[@]}" -b "$bootstrap" -C -t board -o beginning -e -q | wc -l)
echo "   after failover: consumed $got of 3000 acknowledged records"
echo "== 6. the merged timeline of the failover (coordd admin 22111-22113, broker admin 29191-29193)"
admins="127.0.0.1:22111,127.0.0.1:22112,127.0.0.1:22113,127.0.0.1:29191,127.0.0.1:29192,127.0.0.1:29193"
"$bin/kafkactl" timeline --admin "$admins" --last 30 --kind controller,partition,isr,broker,election,quorum 2>/dev/null | tail -20 || true
echo "   Prometheus metrics: curl http://127.0.0.1:29191/metrics ; AdminServer: curl http://127.0.0.1:22111/commands/mntr"
echo "   console: http://127.0.0.1:$console_port/ — Topics shows board, Timeline the failover"
[ "$got" = 3000 ] || { echo "== demo FAILED: records missing"; exit 1; }
echo "== 7. restart broker $leader: it truncates to the new leader's log and rejoins every ISR"
# On the secured cluster the broker logs in to coordd with the JAAS file secure.sh wrote.
opts=""
[ "$secure" = 1 ] && opts="-Djava.security.auth.login.config=$brokers/secrets/broker-jaas.conf"
KAFKA_OPTS="$opts" "$bin/brokerd" "$brokers/server$leader.properties" > /dev/null 2>> "$brokers/broker$leader.log" &
echo $! > "$brokers/broker$leader.pid"
for _ in $(seq 1 300); do
    isr=$(kcat "${kc[@]}" -b "$bootstrap" -L -t board -J 2>/dev/null | python3 -c 'import json,sys; m=json.load(sys.stdin); print(min(len(p["isrs"]) for p in m["topics"][0]["partitions"]))' 2>/dev/null || echo 0)
    [ "$isr" = 3 ] && break
    sleep 0.1
done
"$bin/kafkactl" "${kx[@]}" topics --bootstrap-server "$bootstrap" --describe --topic board
[ "$isr" = 3 ] || { echo "== demo FAILED: broker $leader did not rejoin the ISR"; exit 1; }
echo "== demo OK"
if [ "${DEMO_KEEP:-0}" = "1" ]; then
    echo "== DEMO_KEEP=1: cluster and console keep running; Ctrl-C stops them"
    echo "   the guided lab: docs/lab.md — first step: deploy/lab.sh status"
    while sleep 3600; do :; done
fi
