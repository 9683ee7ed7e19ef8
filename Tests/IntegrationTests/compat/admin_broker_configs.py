"""Dynamic broker configs through confluent-kafka's AdminClient: describe and alter a broker
(incremental and legacy), and see each change take effect on the running brokers without a
restart. The cluster-wide default (resource name "", which the Python binding refuses to build)
goes through kafkactl's `configs --entity-default`. Prints one JSON line of findings; exits non-zero on the
first failed expectation."""
import json, os, subprocess, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # alter_configs is deprecated but still Kafka API 33
from confluent_kafka import Producer, TopicPartition, KafkaException, KafkaError
from confluent_kafka.admin import (AdminClient, NewTopic, ConfigResource, ConfigEntry, AlterConfigOpType,
                                   ResourceType, OffsetSpec)

bootstrap, topic, logdir_pattern, kafkactl = sys.argv[1:5]  # logdir pattern: ".../logs-%d"
a = AdminClient({"bootstrap.servers": bootstrap})
out = {}

def fail(why):
    print(json.dumps({"failed": why, **out}))
    sys.exit(1)

def describe(name):
    r = ConfigResource(ResourceType.BROKER, name)
    return a.describe_configs([r], request_timeout=20)[r].result()

def incremental(name, entries, validate_only=False):
    r = ConfigResource(ResourceType.BROKER, name, incremental_configs=entries)
    return a.incremental_alter_configs([r], request_timeout=20, validate_only=validate_only)[r].result()

def kctl(*args):
    r = subprocess.run([kafkactl, "configs", "--entity-type", "brokers", "--entity-default", "--bootstrap-server", bootstrap] + list(args),
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr

def default_alter(add=None, delete=None):
    args = ["--alter"] + (["--add-config", add] if add else []) + (["--delete-config", delete] if delete else [])
    rc, text = kctl(*args)
    if rc != 0: fail("kafkactl %s: %s" % (args, text))

def default_describe():
    """name -> value for the cluster-default entity, from kafkactl's kafka-configs.sh-style listing."""
    rc, text = kctl("--describe")
    if rc != 0: fail("kafkactl --describe: " + text)
    lines = [l.strip() for l in text.splitlines() if l.startswith("  ")]
    return dict(l.split(" sensitive=")[0].split("=", 1) for l in lines)

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
for f in a.create_topics([NewTopic(topic, 1, 1)], request_timeout=30).values():
    f.result()
until("topic leader", lambda: produce(10) is None)
leader = a.list_topics(topic, timeout=10).topics[topic].partitions[0].leader
other = 3 - leader
logdir = logdir_pattern % leader
out["leader"] = leader

# Static, default and read-only as Kafka describes them.
d1 = describe(str(leader))
c = d1["log.retention.check.interval.ms"]
out["static"] = "%s@%d ro=%s" % (c.value, c.source, c.is_read_only)
c = d1["message.max.bytes"]
out["default"] = "%s@%d ro=%s" % (c.value, c.source, c.is_read_only)
out["default_resource_before"] = sorted(default_describe().keys())

# Kafka's refusals: a static-only key, a per-broker key at the cluster level; and what brokerd cannot apply live.
out["non_dynamic"] = refused(str(leader), [op("broker.id", "5")])
out["not_live"] = refused(str(leader), [op("num.io.threads", "4")])
out["bad_value"] = refused(str(leader), [op("message.max.bytes", "big")])
rc, text = kctl("--alter", "--add-config", "sasl.kerberos.min.time.before.relogin=58000")
out["per_broker_at_default"] = [str(rc), text.strip()]
# validate_only changes nothing.
incremental(str(leader), [op("message.max.bytes", "2000")], validate_only=True)
if describe(str(leader))["message.max.bytes"].source != 5: fail("validate_only stored message.max.bytes")
if produce(5000) is not None: fail("5000-byte record refused before any change")

# Cluster default message.max.bytes: every broker refuses bigger records at once.
default_alter(add="message.max.bytes=2000")
out["too_large"] = until("message.max.bytes to apply", lambda: produce(5000))
c = describe(str(leader))["message.max.bytes"]
out["default_now"] = "%s@%d" % (c.value, c.source)  # (the binding keys synonyms by name: one per name survives)
out["default_resource"] = default_describe()

# Per-broker log.segment.bytes: the leader rolls its log every ~1 KiB from now on; the other broker is untouched.
incremental(str(leader), [op("log.segment.bytes", "1024")])
c = describe(str(leader))["log.segment.bytes"]
out["segment"] = "%s@%d" % (c.value, c.source)
c = describe(str(other))["log.segment.bytes"]
out["segment_other"] = "%s@%d" % (c.value, c.source)
out["segments_before"] = segments()
def rolled():
    if produce(300) is not None: fail("300-byte record refused")
    return segments() >= 4
until("log.segment.bytes to roll segments", rolled)
out["segments_after"] = segments()

# Cluster default log.retention.ms: the old segments go at the next retention check.
out["earliest_before"] = earliest()
default_alter(add="log.retention.ms=1000")
out["earliest_after"] = until("log.retention.ms to delete segments", lambda: earliest() or None)

# Cluster default min.insync.replicas=2 on a one-replica topic: acks=all is refused.
default_alter(add="min.insync.replicas=2")
out["min_isr"] = until("min.insync.replicas to apply", lambda: produce(10, acks="all"))
# DELETE restores the defaults: both records fit again.
default_alter(delete="min.insync.replicas,message.max.bytes")
until("deleted configs to restore defaults", lambda: produce(5000, acks="all") is None)
c = describe(str(leader))["message.max.bytes"]
out["restored"] = "%s@%d" % (c.value, c.source)

# Legacy AlterConfigs replaces the leader's whole entity.
r = ConfigResource(ResourceType.BROKER, str(leader), set_config={"log.cleaner.backoff.ms": "2000"})
a.alter_configs([r], request_timeout=20)[r].result()
d1 = describe(str(leader))
out["replaced"] = "%s@%d segment@%d" % (d1["log.cleaner.backoff.ms"].value, d1["log.cleaner.backoff.ms"].source,
                                        d1["log.segment.bytes"].source)
print(json.dumps(out))
