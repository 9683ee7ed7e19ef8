"""DeleteRecords through confluent-kafka's AdminClient.
  delete_records.py BOOTSTRAP TOPIC setup      create (RF 2), produce 100, delete before 40 and beyond the HW
  delete_records.py BOOTSTRAP TOPIC earliest   the earliest offset and the partition's leader
Prints one JSON line; exits non-zero on a failed expectation."""
import json, sys, time
from confluent_kafka import Producer, TopicPartition, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

bootstrap, topic, mode = sys.argv[1], sys.argv[2], sys.argv[3]
a = AdminClient({"bootstrap.servers": bootstrap})
tp = TopicPartition(topic, 0)
out = {}

def earliest():
    return a.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=20)[tp].result().offset

if mode == "earliest":
    md = a.list_topics(topic, timeout=10).topics[topic].partitions[0]
    print(json.dumps({"earliest": earliest(), "leader": md.leader, "isr": sorted(md.isrs)}))
    sys.exit(0)

deadline = time.time() + 60
while len(a.list_topics(timeout=10).brokers) < 2:
    if time.time() > deadline: sys.exit("fewer than 2 brokers")
    time.sleep(0.5)
for f in a.create_topics([NewTopic(topic, 1, 2)], request_timeout=30).values():
    f.result()
p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
for i in range(100):
    p.produce(topic, value=b"v%d" % i)
if p.flush(30) != 0: sys.exit("produce did not finish")
deleted = a.delete_records([TopicPartition(topic, 0, 40)], request_timeout=20)
out["low_watermark"] = deleted[TopicPartition(topic, 0, 40)].result().low_watermark
out["earliest"] = earliest()
try:
    a.delete_records([TopicPartition(topic, 0, 1000)], request_timeout=20)[TopicPartition(topic, 0, 1000)].result()
    out["beyond_hw"] = "accepted"
except KafkaException as e:
    out["beyond_hw"] = e.args[0].name()
# Lower than the current start: nothing changes, the answer is the current low watermark.
out["lower"] = a.delete_records([TopicPartition(topic, 0, 10)], request_timeout=20)[TopicPartition(topic, 0, 10)].result().low_watermark
md = a.list_topics(topic, timeout=10).topics[topic].partitions[0]
out["leader"] = md.leader
print(json.dumps(out))
