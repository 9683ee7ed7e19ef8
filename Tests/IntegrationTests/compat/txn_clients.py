#!/usr/bin/env python3
"""Transactions (KIP-98) with real clients against brokerd. Usage: txn_clients.py BOOTSTRAP TOPIC [kafka-python|multi1|multi2]
confluent-kafka: a transactional producer commits records c0..c9, aborts a0..a9, commits c10..c19
with its consumer offsets (send_offsets_to_transaction); then a read_committed consumer must see
exactly the committed values and a read_uncommitted one both kinds. With `kafka-python` the same
commit/abort is done by kafka-python's transactional producer (when the installed version has one).
A second producer with the same transactional.id fences the first. multi1/multi2: one round each of a
commit and an abort spread over every partition of TOPIC (run multi2 after a coordinator failover);
the read_committed check covers both rounds. Prints OK or exits 1."""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def read_all(bootstrap, topic, isolation, expect_at_least, timeout=30):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"txn-check-{isolation}-{time.time()}",
                  "enable.auto.commit": False, "isolation.level": isolation, "auto.offset.reset": "earliest"})
    md = c.list_topics(topic, timeout=10).topics[topic]
    c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
    seen = []
    end = time.time() + timeout
    while time.time() < end and len(seen) < expect_at_least:
        m = c.poll(0.5)
        if m is not None and not m.error():
            seen.append(m.value().decode())
    # Anything extra (an aborted record leaking through) would show up now.
    quiet = time.time() + 2
    while time.time() < quiet:
        m = c.poll(0.3)
        if m is not None and not m.error():
            seen.append(m.value().decode())
    c.close()
    return seen


def confluent_txns(bootstrap, topic):
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "txn-test-1", "transaction.timeout.ms": 30000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, f"c{i}".encode())
    p.commit_transaction(30)
    p.begin_transaction()
    for i in range(10):
        p.produce(topic, f"a{i}".encode())
    p.flush(30)
    p.abort_transaction(30)
    # Consumer offsets inside a transaction.
    group = "txn-offsets-group"
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    p.begin_transaction()
    for i in range(10, 20):
        p.produce(topic, f"c{i}".encode())
    p.send_offsets_to_transaction([TopicPartition(topic, 0, 7)], c.consumer_group_metadata(), 30)
    p.commit_transaction(30)
    committed = None
    end = time.time() + 20
    while time.time() < end:
        committed = c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
        if committed == 7:
            break
        time.sleep(0.3)
    c.close()
    if committed != 7:
        return f"transactional offset commit: committed offset {committed}, want 7"
    # A second producer with the same id fences the first.
    p2 = Producer({"bootstrap.servers": bootstrap, "transactional.id": "txn-test-1"})
    p2.init_transactions(30)
    try:
        p.begin_transaction()
        p.produce(topic, b"zombie")
        p.commit_transaction(15)
        return "the fenced producer could still commit"
    except KafkaException as e:
        err = e.args[0]
        if not (err.fatal() or "fenced" in err.str().lower() or "epoch" in err.str().lower()):
            return f"fenced producer failed with an unexpected error: {err}"
    p2.begin_transaction()
    p2.produce(topic, b"c20")
    p2.commit_transaction(30)
    return None


def kafka_python_txns(bootstrap, topic):
    try:
        from kafka import KafkaProducer
    except ImportError:
        return "SKIP kafka-python not installed"
    try:
        p = KafkaProducer(bootstrap_servers=bootstrap, transactional_id="txn-test-kp")
    except Exception as e:  # older kafka-python: no transactional_id option
        return f"SKIP kafka-python has no transactional producer ({e})"
    if not hasattr(p, "init_transactions"):
        return "SKIP kafka-python has no transactional producer"
    p.init_transactions()
    p.begin_transaction()
    for i in range(5):
        p.send(topic, f"k{i}".encode())
    p.commit_transaction()
    p.begin_transaction()
    for i in range(5):
        p.send(topic, f"x{i}".encode())
    p.flush()
    p.abort_transaction()
    p.close()
    return None


def multi_round(bootstrap, topic, prefix, aborted_prefix):
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "txn-multi", "transaction.timeout.ms": 60000})
    p.init_transactions(60)
    parts = len(p.list_topics(topic, timeout=10).topics[topic].partitions)
    p.begin_transaction()
    for i in range(9):
        p.produce(topic, f"{prefix}{i}".encode(), partition=i % parts)
    p.commit_transaction(60)
    p.begin_transaction()
    for i in range(6):
        p.produce(topic, f"{aborted_prefix}{i}".encode(), partition=i % parts)
    p.flush(30)
    p.abort_transaction(60)
    return None


def main() -> int:
    bootstrap, topic = sys.argv[1], sys.argv[2]
    which = sys.argv[3] if len(sys.argv) > 3 else "confluent"
    if which in ("multi1", "multi2"):
        rounds = [("m", "x")] + ([("n", "y")] if which == "multi2" else [])
        err = multi_round(bootstrap, topic, *rounds[-1])
        committed_want = sorted(f"{c}{i}" for c, _ in rounds for i in range(9))
        aborted = [f"{a}{i}" for _, a in rounds for i in range(6)]
    elif which == "kafka-python":
        err = kafka_python_txns(bootstrap, topic)
        if err and err.startswith("SKIP"):
            print(err, flush=True)
            return 0
        committed_want = [f"k{i}" for i in range(5)]
        aborted = [f"x{i}" for i in range(5)]
    else:
        err = confluent_txns(bootstrap, topic)
        committed_want = [f"c{i}" for i in range(21)]
        aborted = [f"a{i}" for i in range(10)]
    if err:
        print("FAIL", err, flush=True)
        return 1
    rc = read_all(bootstrap, topic, "read_committed", len(committed_want))
    if (sorted(rc) if which.startswith("multi") else rc) != committed_want:
        print("FAIL read_committed saw", rc, flush=True)
        return 1
    ru = read_all(bootstrap, topic, "read_uncommitted", len(committed_want) + len(aborted))
    if sorted(ru) != sorted(committed_want + aborted):
        print("FAIL read_uncommitted saw", ru, flush=True)
        return 1
    print("OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
