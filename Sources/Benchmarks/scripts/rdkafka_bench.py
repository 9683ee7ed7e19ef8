#!/usr/bin/env python3
"""librdkafka (confluent-kafka) side of the client benchmark.

Produces N fixed-size records to a topic (acks as given), then consumes them back, and prints one
JSON line with throughput and latency, the same figures ClientBench measures for the Swift client.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def percentile(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    rank = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 1)) - 1))
    return sorted_vals[rank]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--acks", default="all")
    ap.add_argument("--idempotence", default="false")
    ap.add_argument("--partitions", type=int, default=1)
    args = ap.parse_args()

    payload = b"x" * args.size
    lat = []
    errors = [0]
    p = Producer({"bootstrap.servers": args.bootstrap, "acks": args.acks,
                  "enable.idempotence": args.idempotence == "true", "linger.ms": 5})

    def make_cb(t0):
        def cb(err, _msg):
            if err is not None:
                errors[0] += 1
            else:
                lat.append((time.perf_counter() - t0) * 1000.0)
        return cb

    start = time.perf_counter()
    for _ in range(args.records):
        while True:
            try:
                p.produce(args.topic, payload, callback=make_cb(time.perf_counter()))
                break
            except BufferError:
                p.poll(0.01)
        p.poll(0)
    p.flush(120)
    produce_secs = time.perf_counter() - start
    lat.sort()

    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "rdkafka-bench-%d" % time.time_ns(),
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(args.topic, i, 0) for i in range(args.partitions)])
    got = 0
    nbytes = 0
    cstart = time.perf_counter()
    last = cstart
    while got < args.records and time.perf_counter() - last < 15:
        msgs = c.consume(num_messages=10000, timeout=0.5)
        for m in msgs:
            if m.error() is None:
                got += 1
                nbytes += len(m.value() or b"")
        if msgs:
            last = time.perf_counter()
    consume_secs = time.perf_counter() - cstart
    c.close()

    out = {
        "client": "librdkafka " + __import__("confluent_kafka").libversion()[0],
        "produced": len(lat), "errors": errors[0],
        "produce_rps": len(lat) / produce_secs, "produce_mbps": len(lat) * args.size / produce_secs / 1048576,
        "lat_avg": sum(lat) / len(lat) if lat else 0.0,
        "lat_p50": percentile(lat, 0.5), "lat_p99": percentile(lat, 0.99),
        "consumed": got, "consume_rps": got / consume_secs, "consume_mbps": nbytes / consume_secs / 1048576,
    }
    print(json.dumps(out))
    return 0 if errors[0] == 0 and got == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
