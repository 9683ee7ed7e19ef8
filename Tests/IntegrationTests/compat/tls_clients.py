"""SSL and SASL_SSL against a brokerd cluster whose inter-broker listener is SSL: confluent-kafka and
kafka-python produce (RF 3, acks=all) and consume over SASL_SSL with PLAIN and SCRAM-SHA-256/512 and over
SSL with a client certificate; a wrong password, a client without a certificate (ssl.client.auth=required)
and a client that trusts another CA are refused. Prints OK on success; exits non-zero otherwise.
Usage: tls_clients.py SASL_SSL_BOOTSTRAP SSL_BOOTSTRAP CERTS_DIR OTHER_CA_PEM"""
import sys, time
from confluent_kafka import Producer, Consumer, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, UserScramCredentialUpsertion, ScramCredentialInfo, ScramMechanism
import kafka

sasl_boot, ssl_boot, certs, other_ca = sys.argv[1:5]
ca = certs + "/ca.pem"
def sasl(mech, user, pw, trust=ca):
    return {"bootstrap.servers": sasl_boot, "security.protocol": "SASL_SSL", "ssl.ca.location": trust,
            "sasl.mechanisms": mech, "sasl.username": user, "sasl.password": pw}
mtls = {"bootstrap.servers": ssl_boot, "security.protocol": "SSL", "ssl.ca.location": ca,
        "ssl.certificate.location": certs + "/client.pem", "ssl.key.location": certs + "/client.key"}

admin = AdminClient(sasl("PLAIN", "admin", "admin-pw"))
for f in admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("s256", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"pw-256"),
        UserScramCredentialUpsertion("s512", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), b"pw-512")]).values():
    f.result(timeout=30)
for f in admin.create_topics([NewTopic("tls-rf3", 1, 3)]).values():
    f.result(timeout=60)
# The answering broker may not have the controller's UpdateMetadata yet: ask until it has.
deadline = time.time() + 30
while True:
    md = admin.list_topics(timeout=30)
    if "tls-rf3" in md.topics or time.time() > deadline:
        break
    time.sleep(0.2)
assert len(md.topics["tls-rf3"].partitions[0].replicas) == 3, md.topics["tls-rf3"].partitions[0].replicas

p = Producer({**sasl("SCRAM-SHA-256", "s256", "pw-256"), "acks": "all", "enable.idempotence": False})
for i in range(20):
    p.produce("tls-rf3", value=b"m%d" % i)
assert p.flush(60) == 0, "undelivered messages (SASL_SSL SCRAM-SHA-256)"

kc = kafka.KafkaConsumer("tls-rf3", bootstrap_servers=sasl_boot, security_protocol="SASL_SSL", ssl_cafile=ca,
                         sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="s512", sasl_plain_password="pw-512",
                         auto_offset_reset="earliest", consumer_timeout_ms=20000, group_id=None)
got = [m.value for m in kc]
kc.close()
assert got[:20] == [b"m%d" % i for i in range(20)], got

kp = kafka.KafkaProducer(bootstrap_servers=sasl_boot, security_protocol="SASL_SSL", ssl_cafile=ca, sasl_mechanism="PLAIN",
                         sasl_plain_username="alice", sasl_plain_password="alice-pw", acks="all")
kp.send("tls-rf3", b"kp-sasl").get(timeout=30)
kp.close()

# SSL with a client certificate (mTLS): kafka-python produces, confluent-kafka consumes in a group.
ks = kafka.KafkaProducer(bootstrap_servers=ssl_boot, security_protocol="SSL", ssl_cafile=ca,
                         ssl_certfile=certs + "/client.pem", ssl_keyfile=certs + "/client.key", acks="all")
ks.send("tls-rf3", b"kp-ssl").get(timeout=30)
ks.close()
c = Consumer({**mtls, "group.id": "g-tls", "auto.offset.reset": "earliest"})
c.subscribe(["tls-rf3"])
seen, deadline = [], time.time() + 40
while len(seen) < 22 and time.time() < deadline:
    m = c.poll(1)
    if m is not None and not m.error():
        seen.append(m.value())
c.close()
assert len(seen) == 22 and b"kp-ssl" in seen and b"kp-sasl" in seen, seen
cp = Producer({**mtls, "acks": "all"})
cp.produce("tls-rf3", value=b"cp-ssl")
assert cp.flush(30) == 0, "undelivered messages (SSL)"

def refused(conf, what):
    try:
        AdminClient(conf).list_topics(timeout=8)
    except KafkaException as e:
        return str(e)
    sys.exit(what + " was accepted")

# Wrong SASL password over SASL_SSL.
e = refused(sasl("SCRAM-SHA-256", "s256", "wrong"), "a wrong password")
assert "uthentication" in e or "transport" in e.lower(), e
# No client certificate on the ssl.client.auth=required listener.
refused({k: v for k, v in mtls.items() if k not in ("ssl.certificate.location", "ssl.key.location")}, "a client without a certificate")
# A client that trusts another CA: its handshake fails.
refused(sasl("PLAIN", "alice", "alice-pw", trust=other_ca), "a client trusting another CA")
try:
    kafka.KafkaProducer(bootstrap_servers=ssl_boot, security_protocol="SSL", ssl_cafile=other_ca, request_timeout_ms=5000,
                        max_block_ms=5000, api_version=(2, 0)).send("tls-rf3", b"x").get(timeout=8)
    sys.exit("kafka-python trusting another CA produced")
except Exception:
    pass
print("OK")
