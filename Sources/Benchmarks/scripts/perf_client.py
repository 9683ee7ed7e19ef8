#!/usr/bin/env python3
"""Producer/consumer perf driver on librdkafka (confluent-kafka), the same for every broker.

Usage: perf_client.py BOOTSTRAP TOPIC PARTITIONS RF ACKS RECORDS [SIZE]

Creates TOPIC (PARTITIONS, RF), produces RECORDS values of SIZE bytes (default 100) with acks=ACKS
(1 or all), then reads them all back from the beginning. Prints one JSON line:
{"produce": {...}, "consume": {...}} with records/s, MB/s and produce latency percentiles (ms),
taken from librdkafka's own per-message latency (produce() call -> delivery report).
Exits 1 with {"error": ...} when something fails or a bound is exceeded.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

# One set of client settings for every broker, so only the broker differs.
COMMON = {
    "socket.nagle.disable": True,
    "broker.address.family": "v4",
}
PRODUCER = {
    "linger.ms": 5,
    "batch.num.messages": 10000,
    "batch.size": 1000000,
    "compression.type": "none",
    "enable.idempotence": False,
    "queue.buffering.max.messages": 1000000,
    "queue.buffering.max.kbytes": 1048576,
    "max.in.flight.requests.per.connection": 5,
    "message.timeout.ms": 60000,
}
CONSUMER = {
    "group.id": "perf-bench",  # required by the client; offsets are assigned, never committed
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "auto.offset.reset": "earliest",
    "fetch.min.bytes": 1,
    "fetch.wait.max.ms": 100,
    "fetch.max.bytes": 52428800,
    "max.partition.fetch.bytes": 1048576,
    # The client must not throttle itself: a full local queue postpones fetches by
    # fetch.queue.backoff.ms (1 s by default), which would measure the Python loop, not the broker.
    "queued.min.messages": 1000000,
    "queued.max.messages.kbytes": 1048576,
    "fetch.queue.backoff.ms": 10,
}
TIME_LIMIT = 120.0  # seconds per phase
WARMUP_ROUNDS = 2  # warm-up records per partition, ahead of the measured ones


def fail(msg):
    print(json.dumps({"error": msg}))
    sys.stdout.flush()
    sys.exit(1)


def percentile(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    return sorted_vals[min(len(sorted_vals) - 1, int((len(sorted_vals) - 1) * p))]


def create_topic(bootstrap, topic, partitions, rf):
    admin = AdminClient({"bootstrap.servers": bootstrap, **COMMON})
    fs = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=rf)],
                             operation_timeout=20, request_timeout=20)
    try:
        fs[topic].result(timeout=30)
    except KafkaException as e:
        if "TOPIC_ALREADY_EXISTS" not in str(e):
            fail("create_topics: %s" % e)
    # Wait until every partition has a leader, as the clients will need one.
    deadline = time.time() + 30
    while time.time() < deadline:
        md = admin.list_topics(topic=topic, timeout=10)
        t = md.topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) == partitions and \
                all(p.leader >= 0 and len(p.isrs) >= rf for p in t.partitions.values()):
            return
        time.sleep(0.1)
    fail("topic %s has no leaders after 30 s" % topic)


def produce(bootstrap, topic, partitions, acks, records, size):
    lat = []
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            lat.append(msg.latency())

    # Warm up every partition outside the measured window, first with acks=all whatever the case
    # (once acknowledged, the followers' fetchers have picked up the new partitions: a fetch parked
    # on the old set could otherwise delay them by replica.fetch.wait.max.ms), then with the
    # measured producer itself (connections to every leader).
    w = Producer({"bootstrap.servers": bootstrap, "acks": "all", **COMMON, **PRODUCER})
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "on_delivery": on_delivery,
                  **COMMON, **PRODUCER})
    for producer in (w, p):  # WARMUP_ROUNDS of them
        for part in range(partitions):
            producer.produce(topic, b"w" * size, partition=part, on_delivery=on_delivery)
        if producer.flush(30) != 0 or errors:
            fail("warm-up records not delivered: %s" % errors[:1])
    lat.clear()
    payload = b"x" * size
    start = time.monotonic()
    deadline = start + TIME_LIMIT
    for _ in range(records):
        while True:
            try:
                p.produce(topic, payload)
                break
            except BufferError:
                p.poll(0.001)
        p.poll(0)
        if errors:
            fail("delivery failed: %s" % errors[0])
    enqueued = time.monotonic() - start
    while len(lat) < records and not errors and time.monotonic() < deadline:
        p.flush(1)
    elapsed = time.monotonic() - start
    if errors:
        fail("delivery failed: %s" % errors[0])
    if len(lat) < records:
        fail("only %d of %d records delivered in %.0f s" % (len(lat), records, TIME_LIMIT))
    lat.sort()
    return {"records": records, "seconds": elapsed, "enqueue_seconds": enqueued, "rps": records / elapsed,
            "mbps": records * size / elapsed / 1e6,
            "p50_ms": percentile(lat, 0.50) * 1e3, "p99_ms": percentile(lat, 0.99) * 1e3}


def consume(bootstrap, topic, partitions, records, size):
    c = Consumer({"bootstrap.servers": bootstrap, **COMMON, **CONSUMER})
    # Metadata first, so that the clock measures fetching rather than the client's bootstrap.
    c.list_topics(topic=topic, timeout=10)
    want = records + WARMUP_ROUNDS * partitions  # from offset 0: the warm-up records are read too
    got = 0
    nbytes = 0
    start = time.monotonic()
    deadline = start + TIME_LIMIT
    first = None
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    while got < want and time.monotonic() < deadline:
        # Never ask for more than is left: consume() waits for the full count or the timeout.
        for m in c.consume(num_messages=min(10000, want - got), timeout=0.5):
            if m.error() is not None:
                if m.error().code() == -191:  # _PARTITION_EOF: not an error
                    continue
                c.close()
                fail("consume: %s" % m.error())
            if first is None:
                first = time.monotonic() - start
            got += 1
            nbytes += len(m.value() or b"")
    elapsed = time.monotonic() - start
    c.close()
    if got < want:
        fail("consumed %d of %d records in %.0f s" % (got, want, TIME_LIMIT))
    return {"records": got, "seconds": elapsed, "first_record_seconds": first, "rps": got / elapsed,
            "mbps": nbytes / elapsed / 1e6}


def main():
    if len(sys.argv) < 7:
        fail(__doc__)
    bootstrap, topic = sys.argv[1], sys.argv[2]
    partitions, rf = int(sys.argv[3]), int(sys.argv[4])
    acks, records = sys.argv[5], int(sys.argv[6])
    size = int(sys.argv[7]) if len(sys.argv) > 7 else 100
    create_topic(bootstrap, topic, partitions, rf)
    prod = produce(bootstrap, topic, partitions, acks, records, size)
    cons = consume(bootstrap, topic, partitions, records, size)
    print(json.dumps({"produce": prod, "consume": cons}))


if __name__ == "__main__":
    main()
