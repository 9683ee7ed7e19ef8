#!/usr/bin/env bash
# The guided lab's tool (docs/lab.md), for the cluster `DEMO_KEEP=1 ./deploy/demo.sh` keeps running:
#   deploy/lab.sh status                      coordd modes, brokers, controller, partitions of board
#   deploy/lab.sh coordd-leader | controller  the id of the coordd leader / the controller broker
#   deploy/lab.sh leader T P | isr T P        partition P of topic T: its leader / its ISR
#   deploy/lab.sh kill coordd|broker N        kill -9 that daemon
#   deploy/lab.sh start coordd|broker N       start it again with its config
#   deploy/lab.sh fault coordd|broker N NAME [QUERY]   POST /faults/NAME?QUERY on its admin server
#   deploy/lab.sh zk-create PATH              try a coordd write (5 s), print created or refused
#   deploy/lab.sh timeline [KINDS]            the merged timeline's last 25 events (kafkactl timeline)
#   deploy/lab.sh shot PAGE TEXT NAME         screenshot of a console page once it shows TEXT → docs/lab-NAME.png
#   deploy/lab.sh check                       runs every experiment of docs/lab.md and checks what it says
set -euo pipefail
cd "$(dirname "$0")/.."
demo=${DEMO_DIR:-/tmp/coordkafka-demo}
[ -f "$demo/lab.env" ] || { echo "lab: no demo in $demo — run DEMO_KEEP=1 ./deploy/demo.sh first" >&2; exit 2; }
# shellcheck disable=SC1091
. "$demo/lab.env"
zk=127.0.0.1:21811,127.0.0.1:21812,127.0.0.1:21813
bootstrap=127.0.0.1:29091,127.0.0.1:29092,127.0.0.1:29093
admins=127.0.0.1:22111,127.0.0.1:22112,127.0.0.1:22113,127.0.0.1:29191,127.0.0.1:29192,127.0.0.1:29193
console=${console_port:-8080}

mode() {  # coordd N's mode from srvr, or "down"
    local out
    out=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((21810 + $1)) && printf srvr >&3 && cat <&3" 2>/dev/null || true)
    case "$out" in
        *"Mode: "*) sed -n 's/^Mode: //p' <<<"$out" ;;
        *"not currently serving"*) echo "not serving" ;;
        *) echo down ;;
    esac
}
meta() { kcat -b "$bootstrap" -L -J -m 5 "$@" 2>/dev/null || echo '{}'; }
py_meta() { meta "${@:2}" | python3 -c "import json,sys; m=json.load(sys.stdin); $1"; }
partition() {  # partition() TOPIC P EXPR(p)
    py_meta "ps=[p for t in m.get('topics',[]) if t['topic']=='$1' for p in t.get('partitions',[]) if p['partition']==$2]; print($3 if ps else '-')" -t "$1"
}
leader() { partition "$1" "$2" "ps[0]['leader']" | sed 's/^\([0-9-]*\).*/\1/'; }
isr() { partition "$1" "$2" "','.join(str(r['id']) for r in sorted(ps[0]['isrs'], key=lambda r: r['id']))"; }
brokers() { py_meta "print(','.join(str(b['id']) for b in sorted(m.get('brokers',[]), key=lambda b: b['id'])))"; }
controller() { py_meta "print(m.get('controllerid', -1))"; }
coordd_leader() { for i in 1 2 3; do [ "$(mode $i)" = leader ] && { echo "$i"; return; }; done; echo none; }
http_post() {  # http_post PORT PATH
    python3 - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), method="POST", data=b""), timeout=5) as r:
        print(r.read().decode())
except urllib.error.HTTPError as e:
    print("HTTP %d: %s" % (e.code, e.read().decode())); sys.exit(1)
PY
}

kill_daemon() {
    local pidfile
    case "$1" in coordd) pidfile="$dir/ensemble/coord$2.pid" ;; broker) pidfile="$dir/broker$2.pid" ;; *) echo "lab: coordd or broker" >&2; exit 2 ;; esac
    [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null && echo "killed $1 $2 (kill -9)" || echo "$1 $2 was not running"
}
start_daemon() {
    case "$1" in
        coordd) nohup "$bin/coordd" "$dir/ensemble/zoo$2.cfg" >/dev/null 2>>"$dir/ensemble/coord$2.log" & echo $! > "$dir/ensemble/coord$2.pid" ;;
        broker) nohup "$bin/brokerd" "$dir/server$2.properties" >/dev/null 2>>"$dir/broker$2.log" & echo $! > "$dir/broker$2.pid" ;;
        *) echo "lab: coordd or broker" >&2; exit 2 ;;
    esac
    disown  # it outlives this shell; no "Killed" notice when the lab kills it later
    echo "started $1 $2"
}
fault() {  # fault coordd|broker N NAME [QUERY]
    local port
    case "$1" in coordd) port=$((22110 + $2)) ;; broker) port=$((29190 + $2)) ;; *) echo "lab: coordd or broker" >&2; exit 2 ;; esac
    http_post "$port" "/faults/$3${4:+?$4}"
}
zk_create() {
    python3 - "$zk" "$1" <<'PY'
import logging, sys
logging.disable(logging.CRITICAL)
from kazoo.client import KazooClient
c = KazooClient(hosts=sys.argv[1], timeout=5, connection_retry={"max_tries": 2}, command_retry={"max_tries": 0})
try:
    c.start(timeout=5)
    c.create(sys.argv[2], b"lab", makepath=True)
    print("created", sys.argv[2])
except Exception as e:
    print("refused:", type(e).__name__)
finally:
    try: c.stop(); c.close()
    except Exception: pass
PY
}
status() {
    for i in 1 2 3; do echo "coordd $i: $(mode $i)"; done
    echo "brokers registered: $(brokers)   controller: broker $(controller)"
    for p in 0 1 2; do echo "board-$p: leader $(leader board $p), isr [$(isr board $p)]"; done
}

cmd=${1:-status}
case "$cmd" in
    status) status ;;
    coordd-leader) coordd_leader ;;
    controller) controller ;;
    leader) leader "$2" "$3" ;;
    isr) isr "$2" "$3" ;;
    kill) kill_daemon "$2" "$3" ;;
    start) start_daemon "$2" "$3" ;;
    fault) fault "$2" "$3" "$4" "${5:-}" ;;
    zk-create) zk_create "$2" ;;
    timeline) "$bin/kafkactl" timeline --admin "$admins" --last 25 ${2:+--kind "$2"} 2>/dev/null || true ;;
    shot) /usr/bin/python3 deploy/lab/shot.py "http://127.0.0.1:$console$2" "$3" "docs/lab-$4.png" ;;
    check) . deploy/lab/check.sh ;;
    *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
