"""The lab's idempotent producer: idempotent.py BOOTSTRAP TOPIC N
Sends N numbered records with enable.idempotence=true (acks=all) at about 1,000 a second, so a
leader failover lands in the middle; librdkafka retries what the dead leader did not acknowledge,
and the broker's producer-id/sequence check drops what it had already written. Exits 1 if any
delivery failed."""
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
              "message.timeout.ms": 60000, "linger.ms": 5})
failed = []
delivered = [0]


def report(err, msg):
    if err is not None:
        failed.append(str(err))
    else:
        delivered[0] += 1


for i in range(n):
    p.produce(topic, value=b"idem-%06d" % i, partition=0, on_delivery=report)
    p.poll(0)
    if i % 50 == 0:
        time.sleep(0.05)
p.flush(90)
print("delivered %d of %d, failed %d%s" % (delivered[0], n, len(failed), (": " + failed[0]) if failed else ""))
sys.exit(0 if delivered[0] == n and not failed else 1)
