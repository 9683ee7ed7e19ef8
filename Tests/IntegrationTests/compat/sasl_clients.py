"""SASL against a brokerd cluster: SCRAM users created with AlterUserScramCredentials, RF-3 acks=all
produce and consume with confluent-kafka and kafka-python (PLAIN, SCRAM-SHA-256/512), a wrong
password and an unauthenticated client refused. Prints OK on success; exits non-zero otherwise."""
import sys, time
from confluent_kafka import Producer, Consumer, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, UserScramCredentialUpsertion, ScramCredentialInfo, ScramMechanism
import kafka

boot = sys.argv[1]
def conf(mech, user, pw):
    return {"bootstrap.servers": boot, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
            "sasl.username": user, "sasl.password": pw}

admin = AdminClient(conf("PLAIN", "admin", "admin-pw"))
for f in admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("s256", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"pw-256"),
        UserScramCredentialUpsertion("s512", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), b"pw-512")]).values():
    f.result(timeout=30)
desc = admin.describe_user_scram_credentials(["s256", "s512"])
for user, f in desc.items():
    d = f.result(timeout=30)
    assert d.scram_credential_infos, (user, d)
for f in admin.create_topics([NewTopic("sasl-rf3", 1, 3)]).values():
    f.result(timeout=60)

p = Producer({**conf("SCRAM-SHA-256", "s256", "pw-256"), "acks": "all", "enable.idempotence": False})
for i in range(20):
    p.produce("sasl-rf3", value=b"m%d" % i)
assert p.flush(60) == 0, "undelivered messages"

kc = kafka.KafkaConsumer("sasl-rf3", bootstrap_servers=boot, security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                         sasl_plain_username="s512", sasl_plain_password="pw-512", auto_offset_reset="earliest",
                         consumer_timeout_ms=20000, group_id=None)
got = [m.value for m in kc]
kc.close()
assert got[:20] == [b"m%d" % i for i in range(20)], got

kp = kafka.KafkaProducer(bootstrap_servers=boot, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                         sasl_plain_username="alice", sasl_plain_password="alice-pw", acks="all")
kp.send("sasl-rf3", b"kp").get(timeout=30)
kp.close()

c = Consumer({**conf("SCRAM-SHA-256", "s256", "pw-256"), "group.id": "g1", "auto.offset.reset": "earliest"})
c.subscribe(["sasl-rf3"])
seen, deadline = [], time.time() + 40
while len(seen) < 21 and time.time() < deadline:
    m = c.poll(1)
    if m is not None and not m.error():
        seen.append(m.value())
c.close()
assert len(seen) == 21 and b"kp" in seen, seen

# Wrong password: an authentication error, no metadata.
bad = AdminClient(conf("SCRAM-SHA-256", "s256", "wrong"))
try:
    bad.list_topics(timeout=8)
    sys.exit("wrong password was accepted")
except KafkaException as e:
    assert "uthentication" in str(e) or "transport" in str(e).lower(), str(e)

# Unauthenticated (PLAINTEXT protocol against a SASL listener): neither metadata nor produce.
try:
    kafka.KafkaProducer(bootstrap_servers=boot, request_timeout_ms=5000, max_block_ms=5000, api_version=(2, 0)).send("sasl-rf3", b"x").get(timeout=8)
    sys.exit("unauthenticated produce succeeded")
except Exception:
    pass
print("OK")
