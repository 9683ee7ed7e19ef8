"""Reads a topic from the beginning with confluent-kafka's read_committed consumer and prints each value.

usage: read_committed.py BOOTSTRAP TOPIC EXPECTED_COUNT [SECONDS]
Prints one value per line, then stops once EXPECTED_COUNT arrived and nothing more came for 2 s.
"""
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60
c = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "rc-check-%d" % int(time.time() * 1000),
    "isolation.level": "read_committed",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
c.subscribe([topic])
got = []
deadline = time.time() + seconds
quiet_since = None
while time.time() < deadline:
    m = c.poll(0.3)
    if m is None:
        if len(got) >= expected:
            quiet_since = quiet_since or time.time()
            if time.time() - quiet_since > 2:
                break
        continue
    if m.error():
        continue
    quiet_since = None
    got.append(m.value().decode())
c.close()
for v in got:
    print(v)
