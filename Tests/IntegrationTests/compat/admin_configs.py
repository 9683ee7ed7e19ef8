"""IncrementalAlterConfigs / AlterConfigs through confluent-kafka's AdminClient, checked with
describe_configs; a retention.ms change must delete old segments on the running leader.
Prints one JSON line of findings; exits non-zero on the first failed expectation."""
import json, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # alter_configs is deprecated but still Kafka API 33
from confluent_kafka import Producer, TopicPartition, KafkaException
from confluent_kafka.admin import (AdminClient, NewTopic, ConfigResource, ConfigEntry, AlterConfigOpType,
                                   ResourceType, OffsetSpec)

bootstrap, topic = sys.argv[1], sys.argv[2]
a = AdminClient({"bootstrap.servers": bootstrap})
out = {}

def fail(why):
    print(json.dumps({"failed": why, **out}))
    sys.exit(1)

def describe():
    r = ConfigResource(ResourceType.TOPIC, topic)
    return a.describe_configs([r], request_timeout=20)[r].result()

def incremental(entries, validate_only=False):
    r = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    return a.incremental_alter_configs([r], request_timeout=20, validate_only=validate_only)[r]

deadline = time.time() + 60
while len(a.list_topics(timeout=10).brokers) < 2:
    if time.time() > deadline: fail("fewer than 2 brokers")
    time.sleep(0.5)
for f in a.create_topics([NewTopic(topic, 1, 2, config={"segment.bytes": "2048"})], request_timeout=30).values():
    f.result()
p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0})
for i in range(300):
    p.produce(topic, value=b"x" * 100, key=str(i).encode())
    if i % 20 == 0: p.flush(20)
if p.flush(30) != 0: fail("produce did not finish")

def earliest():
    tp = TopicPartition(topic, 0)
    return a.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=20)[tp].result().offset

out["earliest_before"] = earliest()

# Unknown names and bad values are refused with INVALID_CONFIG and change nothing.
for entry, label in [(ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET), "unknown"),
                     (ConfigEntry("retention.ms", "soon", incremental_operation=AlterConfigOpType.SET), "bad_value"),
                     (ConfigEntry("min.insync.replicas", "0", incremental_operation=AlterConfigOpType.SET), "bad_min_isr")]:
    try:
        incremental([entry]).result()
        fail(label + " accepted")
    except KafkaException as e:
        out[label] = e.args[0].name()
# validate_only changes nothing.
incremental([ConfigEntry("retention.ms", "5", incremental_operation=AlterConfigOpType.SET)], validate_only=True).result()
if describe()["retention.ms"].source == 1:
    fail("validate_only changed retention.ms")

incremental([ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET),
             ConfigEntry("min.insync.replicas", "2", incremental_operation=AlterConfigOpType.SET),
             ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)]).result()
d = describe()
out["retention"] = "%s@%d" % (d["retention.ms"].value, d["retention.ms"].source)
out["min_isr"] = "%s@%d" % (d["min.insync.replicas"].value, d["min.insync.replicas"].source)
out["cleanup"] = d["cleanup.policy"].value
out["segment_source"] = d["segment.bytes"].source

# Retention takes effect on the live leader: old segments go, the log start moves.
deadline = time.time() + 60
while time.time() < deadline and earliest() == out["earliest_before"]:
    time.sleep(0.5)
out["earliest_after"] = earliest()

# AlterConfigs replaces the whole override set: min.insync.replicas returns to its default.
r = ConfigResource(ResourceType.TOPIC, topic, set_config={"retention.ms": "86400000", "segment.bytes": "2048"})
a.alter_configs([r], request_timeout=20)[r].result()
d = describe()
out["after_alter"] = {k: "%s@%d" % (d[k].value, d[k].source) for k in ("retention.ms", "min.insync.replicas", "cleanup.policy")}

incremental([ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)]).result()
out["after_delete"] = describe()["retention.ms"].source
print(json.dumps(out))
