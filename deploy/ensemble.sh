#!/usr/bin/env bash
# Starts or stops a local coordd ensemble on loopback from generated zoo.cfg files.
#   deploy/ensemble.sh start [SERVERS=3] [DIR=/tmp/coordkafka/ensemble] [BASE_PORT=21810]
#   deploy/ensemble.sh stop  [DIR]
# Server N listens for clients on BASE_PORT+N, for peers on BASE_PORT+100+N (quorum) and
# BASE_PORT+200+N (election). Logs: DIR/coordN.log. The client connect string is printed.
# SECURE_CERTS=DIR (certs.sh output) adds a TLS client port on BASE_PORT+400+N that requires a client
# certificate signed by that CA (docs/coordd.md, "TLS"); the plaintext port stays on loopback.
# SASL_JAAS=FILE turns on client SASL (DIGEST-MD5) with the users of FILE's Server section
# (docs/coordd.md, "SASL authentication"); anonymous clients are still served.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-start}
if [ "$cmd" = stop ]; then
    dir=${2:-/tmp/coordkafka/ensemble}
    for p in "$dir"/coord*.pid; do
        [ -f "$p" ] || continue
        kill -TERM "$(cat "$p")" 2>/dev/null || true
        rm -f "$p"
    done
    exit 0
fi
n=${2:-3}
dir=${3:-/tmp/coordkafka/ensemble}
base=${4:-21810}
bin=${COORDD:-$(swift build -c release --show-bin-path)/coordd}
[ -x "$bin" ] || { echo "ensemble: $bin not built (swift build -c release)" >&2; exit 1; }
mkdir -p "$dir"
connect=""
# The peer links authenticate with a shared secret (docs/coordd.md, "Quorum peer authentication").
if [ "$n" -gt 1 ] && [ ! -s "$dir/quorum.secret" ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/quorum.secret")
fi
for i in $(seq 1 "$n"); do
    mkdir -p "$dir/data$i"
    echo "$i" > "$dir/data$i/myid"
    {
        echo "tickTime=200"
        echo "initLimit=10"
        echo "syncLimit=5"
        echo "dataDir=$dir/data$i"
        echo "clientPort=$((base + i))"
        echo "clientPortAddress=127.0.0.1"
        # Admin server (AdminServer commands, /metrics, /timeline) on base+300+i; ADMIN=0 turns it off.
        if [ "${ADMIN:-1}" = 1 ]; then
            echo "admin.enableServer=true"
            echo "admin.serverAddress=127.0.0.1"
            echo "admin.serverPort=$((base + 300 + i))"
        fi
        if [ -n "${SECURE_CERTS:-}" ]; then
            echo "secureClientPort=$((base + 400 + i))"
            echo "secureClientPortAddress=127.0.0.1"
            echo "ssl.keyStore.location=$SECURE_CERTS/server-keystore.pem"
            echo "ssl.keyStore.type=PEM"
            echo "ssl.trustStore.location=$SECURE_CERTS/ca.pem"
            echo "ssl.trustStore.type=PEM"
            echo "ssl.clientAuth=need"
        fi
        if [ -n "${SASL_JAAS:-}" ]; then
            echo "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
            echo "java.security.auth.login.config=$SASL_JAAS"
        fi
        # FAULTS=1: the admin server's fault controls (loopback only; docs/operations.md).
        if [ "${FAULTS:-0}" = 1 ]; then echo "faults.enable=true"; fi
        if [ "$n" -gt 1 ]; then
            for j in $(seq 1 "$n"); do echo "server.$j=127.0.0.1:$((base + 100 + j)):$((base + 200 + j))"; done
            echo "quorum.auth.secretFile=$dir/quorum.secret"
        fi
    } > "$dir/zoo$i.cfg"
    # stdout too: a caller reading our output with $(...) must not wait on the servers.
    "$bin" "$dir/zoo$i.cfg" > /dev/null 2> "$dir/coord$i.log" &
    echo $! > "$dir/coord$i.pid"
    connect="${connect:+$connect,}127.0.0.1:$((base + i))"
done
# Wait until a quorum answers `ruok` and one server reports leader/standalone.
for _ in $(seq 1 100); do
    for i in $(seq 1 "$n"); do
        mode=$(exec 3<>/dev/tcp/127.0.0.1/$((base + i)) 2>/dev/null && printf srvr >&3 && cat <&3 | grep -E '^Mode:' || true)
        case "$mode" in *leader*|*standalone*) echo "$connect"; exit 0 ;; esac
    done
    sleep 0.1
done
echo "ensemble: no leader after 10 s; see $dir/coord*.log" >&2
exit 1
