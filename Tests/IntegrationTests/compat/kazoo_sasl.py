"""kazoo against a coordd with SASL DIGEST-MD5 (JAAS users bob/secret and eve/evil).
Usage: kazoo_sasl.py HOST:PORT. Prints OK when every check passed."""
import logging
import sys

from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.exceptions import AuthFailedError, NoAuthError, InvalidACLError
from kazoo.security import make_acl

hosts = sys.argv[1]


def sasl_client(user, password, tries=1):
    return KazooClient(hosts=hosts, sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": password},
                       connection_retry={"max_tries": tries, "delay": 0.5}, timeout=10)


# The first client of a server just started (ZooKeeper's JVM on a busy machine) may see its first
# connection dropped; a good login retries. The refused ones below keep a single try.
bob = sasl_client("bob", "secret", tries=5)
bob.start(timeout=15)
bob.create("/saslnode", b"for bob", acl=[make_acl("sasl", "bob", all=True)])
assert bob.get("/saslnode")[0] == b"for bob"
assert bob.get_acls("/saslnode")[0][0].id.scheme == "sasl"
# The auth scheme stands for the SASL identity.
bob.create("/authnode", b"", acl=[make_acl("auth", "", all=True)])
acl = bob.get_acls("/authnode")[0]
assert [(a.id.scheme, a.id.id) for a in acl] == [("sasl", "bob")], acl

anon = KazooClient(hosts=hosts, timeout=10)
anon.start(timeout=15)
for op in (lambda: anon.get("/saslnode"), lambda: anon.set("/saslnode", b"x")):
    try:
        op()
        raise SystemExit("anonymous client passed a sasl ACL")
    except NoAuthError:
        pass

eve = sasl_client("eve", "evil")
eve.start(timeout=15)
try:
    eve.get("/saslnode")
    raise SystemExit("eve read bob's node")
except NoAuthError:
    pass

# A wrong password: AUTHFAILED and the connection closed; kazoo ends in AUTH_FAILED. Whether start()
# returns first (then the next call fails) or sees the failure (a time-out) is a race inside kazoo,
# so what counts is kazoo's own AUTH_FAILED log line.
class Seen(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


seen = Seen()
logging.getLogger("kazoo.client").addHandler(seen)
logging.getLogger("kazoo.client").setLevel(logging.INFO)
bad = sasl_client("bob", "wrong")
try:
    bad.start(timeout=10)
    bad.exists("/")
    raise SystemExit("wrong password accepted")
except (AuthFailedError, KazooTimeoutError):
    pass
assert any("AUTH_FAILED" in m for m in seen.messages), seen.messages
bad.stop()
bad.close()

bob.delete("/saslnode")
bob.delete("/authnode")
for c in (bob, anon, eve):
    c.stop()
    c.close()
print("OK")
