"""An anonymous kazoo client against the znodes of a brokerd started with zookeeper.set.acl=true
and SASL user USER. Usage: kazoo_secured_broker.py HOST:PORT USER BROKER_ID TOPIC. Prints OK."""
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

hosts, user, broker_id, topic = sys.argv[1:5]
zk = KazooClient(hosts=hosts, timeout=10)
zk.start(timeout=15)


def acl_of(path):
    return sorted((a.id.scheme, a.id.id, a.perms) for a in zk.get_acls(path)[0])


public = sorted([("sasl", user, 31), ("world", "anyone", 1)])
for path in ("/brokers", "/brokers/ids", "/brokers/ids/" + broker_id, "/brokers/topics/" + topic, "/config/topics"):
    assert acl_of(path) == public, (path, acl_of(path))

# Readable by anyone (clients and tools read the layout), changeable by the broker's user only.
assert zk.get("/brokers/ids/" + broker_id)[0].startswith(b"{")
refused = {
    "set /brokers/topics/<topic>": lambda: zk.set("/brokers/topics/" + topic, b"{}"),
    "create /brokers/ids/99": lambda: zk.create("/brokers/ids/99", b"{}", ephemeral=True),
    "delete /brokers/ids/<id>": lambda: zk.delete("/brokers/ids/" + broker_id),
    "set_acls /brokers": lambda: zk.set_acls("/brokers", [__import__("kazoo.security", fromlist=["x"]).OPEN_ACL_UNSAFE[0]]),
    # Sensitive: SCRAM credentials live here; not even readable.
    "get /config/users": lambda: zk.get("/config/users"),
    "ls /config/users": lambda: zk.get_children("/config/users"),
    "getAcl /config/users": lambda: zk.get_acls("/config/users"),
    "create /config/users/mallory": lambda: zk.create("/config/users/mallory", b"{}"),
}
for name, op in refused.items():
    try:
        op()
        raise SystemExit("anonymous client allowed: " + name)
    except NoAuthError:
        pass
zk.stop()
zk.close()
print("OK")
