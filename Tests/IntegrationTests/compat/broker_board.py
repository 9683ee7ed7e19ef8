#!/usr/bin/env python3
"""kafka-python against brokerd: create topic `board`, produce keyed records with acks=all, read
them all back, and check each key landed on the partition murmur2 picks. Prints OK or exits 1."""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError


def murmur2(data: bytes) -> int:
    # Kafka's murmur2 (seed 0x9747b28c), written out here so the check does not trust the client's.
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    tail = length - rest
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def main() -> int:
    bootstrap = sys.argv[1]
    rf = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    topic, partitions, count = "board", 3, 60
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20000)
    try:
        admin.create_topics([NewTopic(topic, partitions, rf)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    admin.close()

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=5, request_timeout_ms=20000)
    sent = {}
    for i in range(count):
        key, value = f"key-{i}".encode(), f"value-{i}".encode()
        md = producer.send(topic, key=key, value=value).get(timeout=30)
        expected = (murmur2(key) & 0x7FFFFFFF) % partitions
        if md.partition != expected:
            print(f"key {key!r} went to partition {md.partition}, murmur2 says {expected}")
            return 1
        sent[key] = (value, md.partition, md.offset)
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    consumer.seek_to_beginning()
    got = {}
    deadline = time.time() + 30
    while len(got) < count and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=1000).values():
            for rec in batch:
                got[rec.key] = (rec.value, rec.partition, rec.offset)
    consumer.close()
    if got != sent:
        missing = set(sent) - set(got)
        print(f"read back {len(got)} of {count} records; missing {sorted(missing)[:5]}; equal={got == sent}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
