#!/usr/bin/env python3
"""One consumer-group member for brokerd's group tests. Usage:
    group_member.py BOOTSTRAP GROUP TOPIC {python|confluent} SECONDS
Prints "ASSIGNED p,q,..." whenever its assignment changes and "MSG partition offset value" per
record (flushed, so a test can follow it), commits as it goes, and exits 0 after SECONDS."""
import sys
import time


def say(line: str) -> None:
    print(line, flush=True)


def run_python(bootstrap, group, topic, seconds):
    from kafka import KafkaConsumer
    c = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=True, auto_commit_interval_ms=300, session_timeout_ms=6000,
                      heartbeat_interval_ms=1000, client_id="py-" + group)
    last = None
    end = time.time() + seconds
    while time.time() < end:
        for tp, recs in c.poll(timeout_ms=200).items():
            for r in recs:
                say(f"MSG {tp.partition} {r.offset} {r.value.decode()}")
        now = sorted(tp.partition for tp in c.assignment())
        if now != last:
            last = now
            say("ASSIGNED " + ",".join(map(str, now)))
    c.close()


def run_confluent(bootstrap, group, topic, seconds):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, "auto.commit.interval.ms": 300,
                  "client.id": "ck-" + group})
    c.subscribe([topic])
    last = None
    end = time.time() + seconds
    while time.time() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            say(f"MSG {m.partition()} {m.offset()} {m.value().decode()}")
        now = sorted(tp.partition for tp in c.assignment())
        if now != last:
            last = now
            say("ASSIGNED " + ",".join(map(str, now)))
    c.close()


def main() -> int:
    bootstrap, group, topic, kind, seconds = sys.argv[1:6]
    (run_confluent if kind == "confluent" else run_python)(bootstrap, group, topic, float(seconds))
    say("DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
