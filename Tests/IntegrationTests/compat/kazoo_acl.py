"""ZooKeeper ACLs and authentication through the real kazoo client.
Usage: kazoo_acl.py HOST:PORT[,HOST:PORT...]. Prints OK on success.

With several servers each client uses its own (alice the first, eve the second, super the third),
so in an ensemble writes are forwarded to the leader with the identities of the connection.
Expects the super digest of "super:test"."""
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import (AuthFailedError, BadArgumentsError, InvalidACLError,
                              NoAuthError, NoNodeError, RolledBackError)
from kazoo.security import ACL, Id, Permissions, make_acl, make_digest_acl

HOSTS = sys.argv[1].split(",")


def client(i, auth=None):
    c = KazooClient(hosts=HOSTS[i % len(HOSTS)], timeout=10, auth_data=auth)
    c.start(timeout=10)
    return c


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def refused(exc, what, f, *args, **kw):
    try:
        f(*args, **kw)
    except exc:
        return
    except Exception as e:
        raise AssertionError("%s: expected %s, got %r" % (what, exc.__name__, e))
    raise AssertionError("%s: expected %s, it succeeded" % (what, exc.__name__))


alice = client(0, [("digest", "alice:pw")])
eve = client(1)
root = client(2, [("digest", "super:test")])
ALICE = make_digest_acl("alice", "pw", all=True)
WORLD_READ = make_acl("world", "anyone", read=True)

alice.create("/acl", acl=[ALICE, WORLD_READ])
alice.create("/acl/digest", b"secret", acl=[ALICE])
alice.create("/acl/digest/child", b"c", acl=[ALICE])
eve.sync("/acl")

# digest ACL: the creator reads and writes, anyone else gets NoAuth for every checked op.
check(alice.get("/acl/digest")[0] == b"secret", "alice reads her node")
refused(NoAuthError, "eve get", eve.get, "/acl/digest")
refused(NoAuthError, "eve set", eve.set, "/acl/digest", b"x")
refused(NoAuthError, "eve create child", eve.create, "/acl/digest/x")
refused(NoAuthError, "eve delete child", eve.delete, "/acl/digest/child")
refused(NoAuthError, "eve children", eve.get_children, "/acl/digest")
refused(NoAuthError, "eve get_acls", eve.get_acls, "/acl/digest")
refused(NoAuthError, "eve set_acls", eve.set_acls, "/acl/digest", [WORLD_READ])
# exists is not checked (ZooKeeper 3.8.0; 3.8.4 checks READ); a wrong password does not help.
check(eve.exists("/acl/digest") is not None, "exists of a node eve cannot read")
check(eve.exists("/acl/none") is None, "exists of a missing node")
eve.add_auth("digest", "alice:wrong")
refused(NoAuthError, "eve with a wrong password", eve.get, "/acl/digest")

# getACL with READ but not ADMIN hides digests.
acls, _ = eve.get_acls("/acl")
check(sorted(a.id.id for a in acls) == ["alice:x", "anyone"], "masked digests: %r" % acls)
acls, _ = alice.get_acls("/acl")
check(ALICE in acls, "alice sees her digest: %r" % acls)

# world READ only: reading works, writing does not; delete needs DELETE on the parent.
refused(NoAuthError, "eve create under world-read", eve.create, "/acl/x")
alice.create("/acl/nodelete", acl=[make_acl("world", "anyone", read=True, write=True, create=True, admin=True)])
eve.sync("/acl/nodelete")
eve.create("/acl/nodelete/c")
refused(NoAuthError, "eve delete without DELETE on the parent", eve.delete, "/acl/nodelete/c")
eve.set("/acl/nodelete", b"w")

# ip ACLs, with CIDR.
alice.create("/acl/ip", b"ip", acl=[ALICE, make_acl("ip", "127.0.0.0/8", read=True)])
alice.create("/acl/ip10", b"ip", acl=[ALICE, make_acl("ip", "10.0.0.0/8", read=True)])
alice.create("/acl/ipexact", b"ip", acl=[ALICE, make_acl("ip", "127.0.0.1", read=True)])
eve.sync("/acl")
check(eve.get("/acl/ip")[0] == b"ip", "ip 127.0.0.0/8 matches loopback")
check(eve.get("/acl/ipexact")[0] == b"ip", "ip 127.0.0.1 matches")
refused(NoAuthError, "ip 10.0.0.0/8", eve.get, "/acl/ip10")
refused(NoAuthError, "ip READ only", eve.set, "/acl/ip", b"x")

# auth scheme: replaced by the creator's authenticated identities; none -> InvalidACL.
alice.create("/acl/auth", acl=[make_acl("auth", "", all=True)])
acls, _ = alice.get_acls("/acl/auth")
check([a.id for a in acls] == [ALICE.id], "auth expanded to alice's digest: %r" % acls)
# eve has a (wrong) digest identity by now, which counts; a fresh connection has only its ip.
anon = client(1)
refused(InvalidACLError, "auth without identities", anon.create, "/anon-auth", acl=[make_acl("auth", "", all=True)])
anon.stop()
eve.create("/acl-eve", acl=[make_acl("auth", "", read=True)])
acls, _ = eve.get_acls("/acl-eve")
check([a.id.id.split(":")[0] for a in acls] == ["alice"] and acls[0].id != ALICE.id, "eve's own digest: %r" % acls)
root.delete("/acl-eve")
refused(InvalidACLError, "bad digest id", eve.create, "/eve-bad", acl=[ACL(Permissions.ALL, Id("digest", "nocolon"))])
refused(InvalidACLError, "bad ip", eve.create, "/eve-bad", acl=[make_acl("ip", "::1", read=True)])
refused(InvalidACLError, "unknown scheme", eve.create, "/eve-bad", acl=[ACL(Permissions.ALL, Id("bogus", "x"))])

# multi: one unauthorised op fails the whole multi, nothing applied.
t = eve.transaction()
t.create("/eve-m1")
t.set_data("/acl/digest", b"no")
res = t.commit()
check(isinstance(res[0], RolledBackError) and isinstance(res[1], NoAuthError), "multi results %r" % res)
refused(NoNodeError, "multi rolled back", alice.get, "/eve-m1")

# super passes every ACL, but reserved nodes stay.
root.sync("/acl")
check(root.get("/acl/digest")[0] == b"secret", "super reads")
root.set("/acl/digest", b"by super")
refused(NoAuthError, "eve writes /zookeeper/config", eve.set, "/zookeeper/config", b"x")
refused(BadArgumentsError, "eve deletes /zookeeper/config", eve.delete, "/zookeeper/config")
refused(BadArgumentsError, "eve deletes /zookeeper/quota", eve.delete, "/zookeeper/quota")
refused(BadArgumentsError, "super deletes /zookeeper", root.delete, "/zookeeper")
root.set("/zookeeper/config", b"")
root.delete("/acl", recursive=True)

# an unknown scheme: AUTHFAILED, and the server drops the connection.
bad = client(1)
refused(AuthFailedError, "unknown scheme", bad.add_auth, "unknown-scheme", "x:y")
bad.stop()
for c in (alice, eve, root):
    c.stop()
print("OK")
