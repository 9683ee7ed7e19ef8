"""ACLs against a brokerd cluster with authorizer.class.name=AclAuthorizer and super.users=User:admin:
confluent-kafka AdminClient create_acls/describe_acls/delete_acls, then authorised and unauthorised
SCRAM users with confluent-kafka and kafka-python (TOPIC_AUTHORIZATION_FAILED producing,
GROUP_AUTHORIZATION_FAILED consuming, hidden topics in Metadata, DENY beating ALLOW, the super user
bypassing everything). Prints OK on success; exits non-zero otherwise."""
import sys, time
from confluent_kafka import Producer, Consumer, KafkaException, KafkaError
from confluent_kafka.admin import (AdminClient, NewTopic, UserScramCredentialUpsertion, ScramCredentialInfo, ScramMechanism,
                                   AclBinding, AclBindingFilter, ResourceType, ResourcePatternType, AclOperation, AclPermissionType)
import kafka
import kafka.errors as kerr

boot = sys.argv[1]
def conf(user, pw, mech="SCRAM-SHA-256"):
    return {"bootstrap.servers": boot, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
            "sasl.username": user, "sasl.password": pw}
def kp_conf(user, pw):
    return dict(bootstrap_servers=boot, security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-256",
                sasl_plain_username=user, sasl_plain_password=pw)

admin = AdminClient(conf("admin", "admin-pw", "PLAIN"))
for f in admin.alter_user_scram_credentials([UserScramCredentialUpsertion(u, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), (u + "-pw").encode())
                                             for u in ("writer", "reader", "intruder")]).values():
    f.result(timeout=30)
for f in admin.create_topics([NewTopic("acl-orders", 1, 2), NewTopic("acl-secret", 1, 2), NewTopic("acl-idem", 1, 2)]).values():
    f.result(timeout=60)

T, G, LIT, PRE = ResourceType.TOPIC, ResourceType.GROUP, ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
bindings = [
    AclBinding(T, "*", LIT, "User:writer", "*", AclOperation.ALL, ALLOW),
    AclBinding(T, "acl-secret", LIT, "User:writer", "*", AclOperation.WRITE, DENY),   # deny wins over the wildcard ALL
    AclBinding(T, "acl-orders", LIT, "User:reader", "*", AclOperation.READ, ALLOW),
    AclBinding(G, "acl-", PRE, "User:reader", "*", AclOperation.READ, ALLOW),
    AclBinding(T, "scratch", LIT, "User:nobody", "*", AclOperation.DESCRIBE, ALLOW),
]
for b, f in admin.create_acls(bindings).items():
    f.result(timeout=30)

everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY)
listed = admin.describe_acls(everything).result(timeout=30)
assert sorted(map(str, listed)) == sorted(map(str, bindings)), (listed, bindings)
# MATCH: what applies to the topic acl-orders: its literal ACL and the wildcard.
match = admin.describe_acls(AclBindingFilter(T, "acl-orders", ResourcePatternType.MATCH, None, None, AclOperation.ANY, AclPermissionType.ANY)).result(timeout=30)
assert sorted((b.name, b.principal) for b in match) == [("*", "User:writer"), ("acl-orders", "User:reader")], match
prefixed = admin.describe_acls(AclBindingFilter(G, None, PRE, None, None, AclOperation.ANY, AclPermissionType.ANY)).result(timeout=30)
assert [(b.name, b.resource_pattern_type) for b in prefixed] == [("acl-", PRE)], prefixed
# A binding Kafka refuses: CLUSTER must be named kafka-cluster.
try:
    list(admin.create_acls([AclBinding(ResourceType.BROKER, "x", LIT, "User:a", "*", AclOperation.ALL, ALLOW)]).values())[0].result(timeout=30)
    sys.exit("an ACL on resource type BROKER was accepted")
except KafkaException:
    pass
deleted = list(admin.delete_acls([AclBindingFilter(T, "scratch", LIT, None, None, AclOperation.ANY, AclPermissionType.ANY)]).values())[0].result(timeout=30)
assert [(b.name, b.principal) for b in deleted] == [("scratch", "User:nobody")], deleted
assert len(admin.describe_acls(everything).result(timeout=30)) == len(bindings) - 1

def produce_errors(user, topic, n=3, **extra):
    p = Producer({**conf(user, user + "-pw"), "acks": "all", "message.timeout.ms": 20000, **extra})
    errs = []
    for i in range(n):
        p.produce(topic, value=b"%s-%d" % (user.encode(), i), on_delivery=lambda e, m: errs.append(e))
    p.flush(30)
    return [e.code() if e else None for e in errs]

# Authorised writer: delivered. Deny wins on acl-secret. Intruder: TOPIC_AUTHORIZATION_FAILED.
assert produce_errors("writer", "acl-orders") == [None] * 3
assert produce_errors("writer", "acl-secret") == [KafkaError.TOPIC_AUTHORIZATION_FAILED] * 3, produce_errors("writer", "acl-secret")
assert produce_errors("intruder", "acl-orders") == [KafkaError.TOPIC_AUTHORIZATION_FAILED] * 3
# An idempotent producer needs IDEMPOTENT_WRITE on the cluster or (Kafka 2.8+) WRITE on some topic: the writer has the latter.
assert produce_errors("writer", "acl-idem", n=2, **{"enable.idempotence": True}) == [None] * 2
# The super user bypasses the DENY.
sp = Producer({**conf("admin", "admin-pw", "PLAIN"), "acks": "all"})
sp.produce("acl-secret", value=b"super")
assert sp.flush(30) == 0

# kafka-python: the intruder's producer fails on the topic's authorisation.
kprod = kafka.KafkaProducer(**kp_conf("intruder", "intruder-pw"), max_block_ms=15000, request_timeout_ms=15000)
try:
    kprod.send("acl-orders", b"x").get(timeout=20)
    sys.exit("kafka-python: unauthorised produce succeeded")
except kerr.TopicAuthorizationFailedError:
    pass
finally:
    kprod.close(timeout=5)

# Metadata hides topics: the intruder sees neither, the reader only acl-orders, the writer both.
def visible(user):
    md = AdminClient(conf(user, user + "-pw")).list_topics(timeout=20)
    return {t for t in md.topics if t.startswith("acl-")}
assert visible("intruder") == set(), visible("intruder")
assert visible("reader") == {"acl-orders"}, visible("reader")
assert visible("writer") == {"acl-orders", "acl-secret", "acl-idem"}, visible("writer")

# Reader in an allowed group (prefix acl-) consumes; in another group GROUP_AUTHORIZATION_FAILED.
c = Consumer({**conf("reader", "reader-pw"), "group.id": "acl-g", "auto.offset.reset": "earliest"})
c.subscribe(["acl-orders"])
seen, deadline = [], time.time() + 40
while len(seen) < 3 and time.time() < deadline:
    m = c.poll(1)
    if m is not None and not m.error():
        seen.append(m.value())
c.close()
assert sorted(seen) == [b"writer-0", b"writer-1", b"writer-2"], seen

c = Consumer({**conf("reader", "reader-pw"), "group.id": "other-g", "auto.offset.reset": "earliest"})
c.subscribe(["acl-orders"])
code, deadline = None, time.time() + 30
while code is None and time.time() < deadline:
    m = c.poll(1)
    if m is not None and m.error():
        code = m.error().code()
c.close()
assert code == KafkaError.GROUP_AUTHORIZATION_FAILED, code

kc = kafka.KafkaConsumer("acl-orders", **kp_conf("reader", "reader-pw"), group_id="other-g", auto_offset_reset="earliest")
try:
    deadline = time.time() + 30
    while time.time() < deadline:
        kc.poll(timeout_ms=1000)
    sys.exit("kafka-python: consuming in an unauthorised group succeeded")
except kerr.GroupAuthorizationFailedError:
    pass
finally:
    kc.close()
kc = kafka.KafkaConsumer("acl-orders", **kp_conf("reader", "reader-pw"), group_id="acl-kp", auto_offset_reset="earliest", consumer_timeout_ms=20000)
got = [m.value for m in kc]
kc.close()
assert sorted(got)[:3] == [b"writer-0", b"writer-1", b"writer-2"], got

# The intruder cannot manage ACLs (ALTER on the cluster).
intruder_admin = AdminClient(conf("intruder", "intruder-pw"))  # kept alive until its futures resolve
try:
    list(intruder_admin.create_acls([AclBinding(T, "acl-orders", LIT, "User:intruder", "*", AclOperation.ALL, ALLOW)]).values())[0].result(timeout=30)
    sys.exit("the intruder created an ACL")
except KafkaException as e:
    assert e.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED, e
print("OK")
