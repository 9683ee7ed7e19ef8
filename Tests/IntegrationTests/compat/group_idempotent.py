#!/usr/bin/env python3
"""confluent-kafka idempotent producer against brokerd. Usage: group_idempotent.py BOOTSTRAP TOPIC N [slow]
Produces N records with enable.idempotence=True (acks=all), then reads the topic back with a
plain consumer and checks every value arrived exactly once. Prints OK or exits 1. With `slow` it
spreads the records over several seconds and prints HALF midway, so a test can kill a leader while
batches are in flight."""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def main() -> int:
    bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    slow = len(sys.argv) > 4 and sys.argv[4] == "slow"
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "message.timeout.ms": 60000})
    failed = []
    for i in range(n):
        p.produce(topic, str(i).encode(), on_delivery=lambda e, m: failed.append(e) if e else None)
        p.poll(0)
        if slow and i % 20 == 19:
            time.sleep(0.05)
        if slow and i == n // 2:
            print("HALF", flush=True)
    if p.flush(60) != 0 or failed:
        print("produce failed:", failed[:3])
        return 1
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "idem-check", "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=10).topics[topic]
    c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
    seen = []
    end = time.time() + 30
    while time.time() < end and len(seen) < n:
        m = c.poll(0.5)
        if m is not None and not m.error():
            seen.append(int(m.value()))
    time.sleep(1)  # anything extra (a duplicate) would show up now
    while True:
        m = c.poll(0.5)
        if m is None:
            break
        if not m.error():
            seen.append(int(m.value()))
    c.close()
    if sorted(seen) != list(range(n)):
        dups = len(seen) - len(set(seen))
        print(f"read {len(seen)} records, {dups} duplicates, {n - len(set(seen))} missing")
        return 1
    print("OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
