"""Dynamic broker configs through confluent-kafka's AdminClient: describe a broker and the
cluster default, alter both (incremental and legacy), and see each change take effect on the
running brokers without a restart. Prints one JSON line of findings; exits non-zero on the
first failed expectation."""
import json, os, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # alter_configs is deprecated but still Kafka API 33
from confluent_kafka import Producer, TopicPartition, KafkaException, KafkaError
from confluent_kafka.admin import (AdminClient, NewTopic, ConfigResource, ConfigEntry, AlterConfigOpType,
                                   ResourceType, OffsetSpec)

bootstrap, topic, logdir = sys.argv[1], sys.argv[2], sys.argv[3]
a = AdminClient({"bootstrap.servers": bootstrap})
out = {}

def fail(why):
    print(json.dumps({"failed": why, **out}))
    sys.exit(1)

def describe(name):
    r = ConfigResource(ResourceType.BROKER, name)
    return a.describe_configs([r], request_timeout=20, include_synonyms=True)[r].result()

def incremental(name, entries, validate_only=False):
    r = ConfigResource(ResourceType.BROKER, name, incremental_configs=entries)
    return a.incremental_alter_configs([r], request_timeout=20, validate_only=validate_only)[r].result()

def op(k, v=None, kind=AlterConfigOpType.SET):
    return ConfigEntry(k, v, incremental_operation=kind)

def refused(name, entries):
    try:
        incremental(name, entries)
    except KafkaException as e:
        return e.args[0].name(), e.args[0].str()
    fail("accepted %s" % [e.name for e in entries])

def produce(size, acks="1"):
    """One record; returns the delivery error name or None."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 0, "retries": 0,
                  "message.timeout.ms": 10000})
    res = []
    p.produce(topic, value=b"v" * size, on_delivery=lambda err, msg: res.append(err))
    p.flush(20)
    if not res: fail("no delivery report")
    return res[0].name() if res[0] else None

def until(what, f, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = f()
        if v: return v
        time.sleep(0.3)
    fail("timed out waiting for " + what)

def segments():
    d = os.path.join(logdir, topic + "-0")
    return len([f for f in os.listdir(d) if f.endswith(".log")]) if os.path.isdir(d) else 0

def earliest():
    tp = TopicPartition(topic, 0)
    return a.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=20)[tp].result().offset

deadline = time.time() + 60
while len(a.list_topics(timeout=10).brokers) < 2:
    if time.time() > deadline: fail("fewer than 2 brokers")
    time.sleep(0.5)
for f in a.create_topics([NewTopic(topic, replica_assignment=[[1]])], request_timeout=30).values():
    f.result()
until("topic leader", lambda: produce(10) is None)

# Static, default and read-only as Kafka describes them.
d1 = describe("1")
c = d1["log.retention.check.interval.ms"]
out["static"] = "%s@%d ro=%s" % (c.value, c.source, c.is_read_only)
c = d1["message.max.bytes"]
out["default"] = "%s@%d ro=%s" % (c.value, c.source, c.is_read_only)
out["default_resource_before"] = sorted(describe("").keys())

# Kafka's refusals: a static-only key, a per-broker key at the cluster level; and what brokerd cannot apply live.
out["non_dynamic"] = refused("1", [op("broker.id", "5")])
out["per_broker_at_default"] = refused("", [op("sasl.kerberos.min.time.before.relogin", "58000")])
out["not_live"] = refused("1", [op("num.io.threads", "4")])
out["bad_value"] = refused("", [op("message.max.bytes", "big")])
# validate_only changes nothing.
incremental("", [op("message.max.bytes", "2000")], validate_only=True)
if describe("").get("message.max.bytes") is not None: fail("validate_only stored message.max.bytes")
if produce(5000) is not None: fail("5000-byte record refused before any change")

# Cluster default message.max.bytes: every broker refuses bigger records at once.
incremental("", [op("message.max.bytes", "2000")])
out["too_large"] = until("message.max.bytes to apply", lambda: produce(5000))
c = describe("1")["message.max.bytes"]
out["default_now"] = "%s@%d %s" % (c.value, c.source, [s.source.value for s in c.synonyms])
c = describe("")["message.max.bytes"]
out["default_resource"] = "%s@%d" % (c.value, c.source)

# Per-broker log.segment.bytes: broker 1 rolls its log every ~1 KiB from now on.
incremental("1", [op("log.segment.bytes", "1024")])
c = describe("1")["log.segment.bytes"]
out["segment"] = "%s@%d" % (c.value, c.source)
out["segments_before"] = segments()
def rolled():
    if produce(300) is not None: fail("300-byte record refused")
    return segments() >= 4
until("log.segment.bytes to roll segments", rolled)
out["segments_after"] = segments()

# Cluster default log.retention.ms: the old segments go at the next retention check.
out["earliest_before"] = earliest()
incremental("", [op("log.retention.ms", "1000")])
out["earliest_after"] = until("log.retention.ms to delete segments", lambda: earliest() or None)

# Cluster default min.insync.replicas=2 on a one-replica topic: acks=all is refused.
incremental("", [op("min.insync.replicas", "2")])
out["min_isr"] = until("min.insync.replicas to apply", lambda: produce(10, acks="all"))
# DELETE restores the defaults: both records fit again.
incremental("", [op("min.insync.replicas", kind=AlterConfigOpType.DELETE), op("message.max.bytes", kind=AlterConfigOpType.DELETE)])
until("deleted configs to restore defaults", lambda: produce(5000, acks="all") is None)
c = describe("1")["message.max.bytes"]
out["restored"] = "%s@%d" % (c.value, c.source)

# Legacy AlterConfigs replaces broker 1's whole entity.
r = ConfigResource(ResourceType.BROKER, "1", set_config={"log.cleaner.backoff.ms": "2000"})
a.alter_configs([r], request_timeout=20)[r].result()
d1 = describe("1")
out["replaced"] = "%s@%d segment@%d" % (d1["log.cleaner.backoff.ms"].value, d1["log.cleaner.backoff.ms"].source,
                                        d1["log.segment.bytes"].source)
print(json.dumps(out))
