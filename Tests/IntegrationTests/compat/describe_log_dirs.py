"""DescribeLogDirs through kafka-python's KafkaAdminClient.describe_log_dirs, after producing to a
two-partition topic on one broker. Prints the answer as JSON (kafka-python's own dicts)."""
import json, sys, time
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=20000)
a.create_topics([NewTopic(topic, 2, 1)])
p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
deadline = time.time() + 60
while True:
    try:
        for i in range(50):
            p.send(topic, value=b"y" * 200, partition=0).get(timeout=20)
        break
    except Exception:
        if time.time() > deadline: raise
        time.sleep(0.5)
p.flush()
print(json.dumps({"all": a.describe_log_dirs(), "one": a.describe_log_dirs({topic: [1]})}, default=str))
