#!/usr/bin/env python3
"""confluent-kafka round trip. Usage: produce_read_all.py BOOTSTRAP TOPIC N
Produces N records with each of none/gzip/snappy/lz4 compression (acks=all), then reads the whole
topic from offset 0 and checks that every record produced here is there, in order, with no consumer
error (a lying batch accepted earlier breaks librdkafka's reads with _BAD_COMPRESSION or
_BAD_MSG). Prints OK with the count read, or exits 1."""
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition


def main() -> int:
    bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    expected = []
    for codec in ["none", "gzip", "snappy", "lz4"]:
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "compression.type": codec,
                      "linger.ms": 5, "message.timeout.ms": 30000})
        failed = []
        for i in range(n):
            v = f"{codec}-{i}".encode()
            expected.append(v)
            p.produce(topic, v, key=b"k", on_delivery=lambda e, m: failed.append(e) if e else None)
            p.poll(0)
        if p.flush(30) != 0 or failed:
            print("produce failed:", codec, failed[:3])
            return 1
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "read-all", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, 0)])
    seen = []
    end = time.time() + 30
    while time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                if len(seen) >= len(expected):
                    break
                continue
            print("consumer error:", m.error())
            return 1
        seen.append(m.value())
    c.close()
    if seen != expected:
        print(f"read {len(seen)} records, expected {len(expected)}; first difference at",
              next((i for i, (a, b) in enumerate(zip(seen, expected)) if a != b), min(len(seen), len(expected))))
        return 1
    print("OK", len(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
