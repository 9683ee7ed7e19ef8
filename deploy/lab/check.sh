# Sourced by `deploy/lab.sh check`: every experiment of docs/lab.md, done the way the lab says
# (the same lab.sh commands) and checked for what the lab says to watch. Exits 1 at the first
# experiment that does not behave as written. LAB_SHOTS=1 also saves the lab's screenshots in docs/.
within() {  # within SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
    local t=$1 what=$2 end
    shift 2
    end=$((SECONDS + t))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$end" ]; then
            echo "   FAIL: $what (not within $t s)"
            status
            exit 1
        fi
        sleep 0.3
    done
    echo "   ok: $what ($((t - end + SECONDS)) s)"
}
shoot() { if [ "${LAB_SHOTS:-0}" = 1 ]; then /usr/bin/python3 deploy/lab/shot.py "http://127.0.0.1:$console$1" "$2" "docs/lab-$3.png" || true; fi; }
others() { for i in 1 2 3; do [ "$i" = "$1" ] || [ "$i" = "${2:-}" ] || echo "$i"; done; }
has() { [[ ",$1," == *",$2,"* ]]; }
leader_is_new() { local l; l=$(coordd_leader); [ "$l" != none ] && [ "$l" != "$1" ]; }
mode_is() { [ "$(mode "$1")" = "$2" ]; }
not_leader() { [ "$(mode "$1")" != leader ]; }
registered() { has "$(brokers)" "$1"; }
unregistered() { ! has "$(brokers)" "$1"; }
full_isr() { for p in 0 1 2; do [ "$(isr board "$p")" = 1,2,3 ] || return 1; done; }
isr_of() { [ "$(isr "$1" "$2")" = "$3" ]; }
isr_lacks() { local i; i=$(isr "$1" "$2"); [ "$i" != - ] && [ -n "$i" ] && ! has "$i" "$3"; }
isr_has() { has "$(isr "$1" "$2")" "$3"; }
none_led_by() { for p in 0 1 2; do local l; l=$(leader board "$p"); [ "$l" != "$1" ] && [ "$l" != -1 ] || return 1; done; }
new_controller() { local c; c=$(controller); [ "$c" != "$1" ] && [ "$c" != -1 ]; }
zk_epoch() { python3 -c "
import logging,sys; logging.disable(logging.CRITICAL)
from kazoo.client import KazooClient
c=KazooClient(hosts='$zk'); c.start(timeout=10); print(c.get('/kafka/controller_epoch')[0].decode()); c.stop()"; }
timeline_has() { "$bin/kafkactl" timeline --admin "$admins" --last 400 --kind "$1" 2>/dev/null | grep -q "$2"; }
produce() { printf '%s\n' "$3" | kcat -b "$bootstrap" -P -t "$1" -p "$2" -X acks="${4:-all}" -X message.timeout.ms=8000 2>&1; }
produce_ok() { local out; out=$(produce "$@"); ! grep -qi "error\|fail" <<<"$out"; }
members() { "$bin/kafkactl" consumer-groups --bootstrap-server "$bootstrap" --describe --group "$1" 2>/dev/null \
    | awk -v g="$1" '$1 == g && $7 != "-" {print $7}' | sort -u | wc -l; }
members_are() { [ "$(members "$1")" = "$2" ]; }

echo "== lab check against $demo"
within 60 "the demo cluster is healthy (3 coordd, 3 brokers, full ISRs)" full_isr
status
shoot "/" "Controller" overview

experiment1() {
    echo "== 1. kill the coordd leader"
    L=$(coordd_leader)
    kill_daemon coordd "$L"
    within 10 "a new coordd leader among the other two" leader_is_new "$L"
    within 10 "the election is on the timeline" timeline_has election leader_elected
    start_daemon coordd "$L"
    within 30 "server $L is back, as a follower" mode_is "$L" follower
    shoot "/timeline" "election" timeline-coordd-leader-killed
}

experiment2() {
    echo "== 2. lose the quorum"
    L=$(coordd_leader)
    read -r A B <<<"$(others "$L" | tr "\n" " ")"
    kill_daemon coordd "$A"
    kill_daemon coordd "$B"
    within 15 "the lone server $L stops leading" not_leader "$L"
    out=$(zk_create /lab/while-lost) || true
    [[ "$out" == refused* ]] || { echo "   FAIL: a write without a quorum was not refused: $out"; exit 1; }
    echo "   ok: a write without a quorum is refused ($out)"
    within 20 "brokers still take acks=all writes on existing partitions" produce_ok board 0 during-outage
    start_daemon coordd "$A"
    start_daemon coordd "$B"
    within 30 "a quorum again" leader_is_new none
    within 30 "writes accepted again" bash -c "deploy/lab.sh zk-create /lab/after-quorum-$RANDOM | grep -q created"
    within 60 "brokers re-registered" full_isr
}

experiment3() {
    echo "== 3. a broker's session expires"
    C=$(controller)
    B=$(others "$C" | head -n 1)
    fault broker "$B" pause ms=12000 >/dev/null
    within 12 "broker $B's /brokers/ids/$B is gone (session timeout 6 s)" unregistered "$B"
    within 15 "its partitions are led by others" none_led_by "$B"
    shoot "/topics/board" "board" topic-broker-paused
    within 30 "broker $B re-registers after the pause" registered "$B"
    within 60 "and rejoins every ISR" full_isr
    within 10 "the session loss is on the timeline" timeline_has broker session_lost
}

experiment4() {
    echo "== 4. kill the controller"
    C=$(controller)
    E=$(zk_epoch)
    kill_daemon broker "$C"
    within 20 "another broker is controller" new_controller "$C"
    [ "$(zk_epoch)" -gt "$E" ] || { echo "   FAIL: controller epoch did not grow from $E"; exit 1; }
    echo "   ok: controller epoch $E -> $(zk_epoch)"
    within 15 "the new controller's leader moves are on the timeline" timeline_has partition leader_changed
    start_daemon broker "$C"
    within 60 "broker $C back in every ISR" full_isr
    shoot "/timeline" "controller" timeline-controller-killed
}

experiment5() {
    echo "== 5. isolate a follower: its fetches stop"
    L0=$(leader board 0)
    F=$(others "$L0" | head -n 1)
    fault broker "$F" fetch mode=pause >/dev/null
    within 30 "board-0's ISR drops broker $F (replica.lag.time.max.ms=10000)" isr_lacks board 0 "$F"
    within 30 "acks=all still works with 2 in sync (min.insync.replicas=2)" produce_ok board 0 isolated-follower
    shoot "/topics/board" "board" topic-isr-shrunk
    fault broker "$F" fetch mode=resume >/dev/null
    within 30 "broker $F back in board-0's ISR" isr_has board 0 "$F"
    within 10 "shrink and expand are on the timeline" timeline_has isr expand
}

experiment6() {
    echo "== 6. acks=all with min.insync.replicas=2 when replicas die"
    L0=$(leader board 0)
    read -r A B <<<"$(others "$L0" | tr "\n" " ")"
    kill_daemon broker "$A"
    kill_daemon broker "$B"
    within 30 "board-0's ISR is its leader alone" isr_of board 0 "$L0"
    # retries=0: librdkafka would retry NOT_ENOUGH_REPLICAS until message.timeout.ms and report a timeout.
    out=$(echo refused-write | kcat -b "$bootstrap" -P -t board -p 0 -X acks=all -X retries=0 2>&1) || true
    grep -qi "in-sync\|NOT_ENOUGH" <<<"$out" || { echo "   FAIL: acks=all with 1 in sync was not refused: $out"; exit 1; }
    echo "   ok: acks=all refused: $(grep -io 'not enough in-sync replicas' <<<"$out" | head -n 1)"
    within 30 "acks=1 is still accepted" produce_ok board 0 acks-one 1
    start_daemon broker "$A"
    start_daemon broker "$B"
    within 60 "all three back in every ISR" full_isr
}

experiment7() {
    echo "== 7. a consumer group rebalances"
    "$bin/kafkactl" console-consumer --bootstrap-server "$bootstrap" --topic board --group lab --timeout-ms 60000 >/dev/null 2>&1 &
    c1=$!
    "$bin/kafkactl" console-consumer --bootstrap-server "$bootstrap" --topic board --group lab --timeout-ms 60000 >/dev/null 2>&1 &
    c2=$!
    within 40 "two members share board's 3 partitions" members_are lab 2
    shoot "/groups/lab" "lab" group-two-members
    kill -TERM "$c1"
    within 40 "one member left: the other owns all three" members_are lab 1
    within 10 "the rebalances are on the timeline" timeline_has group rebalanced
    kill -TERM "$c2" 2>/dev/null || true
    wait "$c1" "$c2" 2>/dev/null || true
}

experiment8() {
    echo "== 8. retention and compaction at work"
    "$bin/kafkactl" topics --bootstrap-server "$bootstrap" --create --if-not-exists --topic lab-compact --partitions 1 --replication-factor 3 \
        --config cleanup.policy=compact --config segment.bytes=2048 >/dev/null
    "$bin/kafkactl" topics --bootstrap-server "$bootstrap" --create --if-not-exists --topic lab-retention --partitions 1 --replication-factor 3 \
        --config retention.ms=5000 --config segment.bytes=2048 >/dev/null
    # Small batches, so the segments roll (the active segment is never cleaned or deleted).
    for i in $(seq 1 500); do echo "k$((i % 10)):v$i"; done | kcat -b "$bootstrap" -P -t lab-compact -K: -X acks=all -X batch.num.messages=20
    for i in $(seq 1 300); do echo "r$i"; done | kcat -b "$bootstrap" -P -t lab-retention -X acks=all -X batch.num.messages=20
    count() { kcat -b "$bootstrap" -C -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
    fewer() { [ "$(count "$1")" -lt "$2" ]; }
    within 60 "compaction: far fewer than 500 records left in lab-compact" fewer lab-compact 200
    last=$(kcat -b "$bootstrap" -C -t lab-compact -o beginning -e -q -K: 2>/dev/null | grep '^k7:' | tail -n 1)
    [ "$last" = "k7:v497" ] || { echo "   FAIL: the latest value of k7 is '$last', not k7:v497"; exit 1; }
    echo "   ok: every key keeps its latest value (k7:v497)"
    within 60 "retention: segments older than 5 s are deleted from lab-retention" fewer lab-retention 300
}

experiment9() {
    echo "== 9. an idempotent producer across a leader failover"
    "$bin/kafkactl" topics --bootstrap-server "$bootstrap" --create --topic lab-idem --partitions 1 --replication-factor 3 >/dev/null
    python3 deploy/lab/idempotent.py "$bootstrap" lab-idem 3000 > "$demo/idem.out" 2>&1 &
    p=$!
    sleep 2
    L=$(leader lab-idem 0)
    kill_daemon broker "$L"
    wait "$p" || { echo "   FAIL: producer: $(cat "$demo/idem.out")"; exit 1; }
    echo "   ok: $(tail -n 1 "$demo/idem.out")"
    got=$(kcat -b "$bootstrap" -C -t lab-idem -o beginning -e -q 2>/dev/null)
    n=$(wc -l <<<"$got")
    u=$(sort -u <<<"$got" | wc -l)
    [ "$n" = 3000 ] && [ "$u" = 3000 ] || { echo "   FAIL: read $n records, $u distinct, of 3000 acknowledged"; exit 1; }
    echo "   ok: 3000 acknowledged, 3000 read, no duplicates, none lost"
    start_daemon broker "$L"
    within 60 "broker $L back in every ISR" full_isr
    shoot "/timeline" "partition" timeline-idempotent-failover
}

# LAB_ONLY="5 6" runs just those (on a healthy cluster).
for n in ${LAB_ONLY:-1 2 3 4 5 6 7 8 9}; do "experiment$n"; done
echo "== lab check OK: every experiment behaved as docs/lab.md says"
