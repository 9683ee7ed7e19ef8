"""Drives coordd with the real kazoo client. Usage: kazoo_compat.py PORT. Prints OK on success."""
import socket
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NodeExistsError, NoNodeError,
                              NotEmptyError, RolledBackError)
from kazoo.protocol.states import KazooState

HOSTS = "127.0.0.1:%s" % sys.argv[1]


def wait_for(ev, what):
    if not ev.wait(10):
        raise AssertionError("timed out waiting for " + what)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


zk = KazooClient(hosts=HOSTS, timeout=10)
zk.start(timeout=10)
sid, pw = zk.client_id

# create: persistent, ephemeral, sequential
zk.create("/compat", b"root")
check(zk.create("/compat/p", b"one") == "/compat/p", "create path")
zk.create("/compat/eph", b"e", ephemeral=True)
s1 = zk.create("/compat/seq-", b"", sequence=True)
s2 = zk.create("/compat/seq-", b"", sequence=True)
check(s1 < s2 and s1.startswith("/compat/seq-") and len(s1) == len("/compat/seq-") + 10, "sequential names %s %s" % (s1, s2))
zk.ensure_path("/compat/deep/er/path")

# get / set with version
data, stat = zk.get("/compat/p")
check(data == b"one" and stat.version == 0, "get")
zk.set("/compat/p", b"two", version=0)
try:
    zk.set("/compat/p", b"three", version=0)
    raise AssertionError("expected BadVersionError")
except BadVersionError:
    pass
check(zk.get("/compat/p")[0] == b"two", "set applied")
check(zk.exists("/compat/nope") is None, "exists on missing")
check(zk.exists("/compat/eph").ephemeralOwner == sid, "ephemeral owner")

# list
kids = sorted(zk.get_children("/compat"))
check(kids == sorted(["p", "eph", "deep", s1.split("/")[-1], s2.split("/")[-1]]), "children %r" % kids)

# error codes
for fn, exc in [(lambda: zk.create("/compat/p", b""), NodeExistsError),
                (lambda: zk.get("/compat/missing"), NoNodeError),
                (lambda: zk.delete("/compat"), NotEmptyError),
                (lambda: zk.create("/compat/eph/child", b""), Exception)]:
    try:
        fn()
        raise AssertionError("expected %s" % exc.__name__)
    except exc:
        pass

# data watch and child watch fire (once)
data_ev = threading.Event()
child_ev = threading.Event()
events = []
zk.get("/compat/p", watch=lambda e: (events.append(("data", e.type)), data_ev.set()))
zk.get_children("/compat", watch=lambda e: (events.append(("child", e.type)), child_ev.set()))
zk.set("/compat/p", b"watched")
wait_for(data_ev, "data watch")
zk.create("/compat/new", b"")
wait_for(child_ev, "child watch")
check(("data", "CHANGED") in events and ("child", "CHILD") in events, "events %r" % events)

# exists watch on a missing node fires on create
created = threading.Event()
zk.exists("/compat/later", watch=lambda e: created.set() if e.type == "CREATED" else None)
zk.create("/compat/later", b"")
wait_for(created, "exists watch")

# transactions (multi): success, then an atomic failure
t = zk.transaction()
t.create("/compat/tx1", b"a")
t.set_data("/compat/p", b"tx")
t.check("/compat/p", 3)  # set_data above made it 3
results = t.commit()
check(results[0] == "/compat/tx1" and results[2] is True, "multi results %r" % results)
t = zk.transaction()
t.create("/compat/tx2", b"")
t.delete("/compat/does-not-exist")
results = t.commit()
check(isinstance(results[0], RolledBackError) and isinstance(results[1], NoNodeError), "failed multi %r" % results)
check(zk.exists("/compat/tx2") is None, "failed multi must not apply")

# delete with version
_, st = zk.get("/compat/tx1")
zk.delete("/compat/tx1", version=st.version)
check(zk.exists("/compat/tx1") is None, "deleted")
zk.delete("/compat/deep", recursive=True)

# reconnect with the same session: drop the socket under kazoo; it must resume, not expire.
states = []
zk.add_listener(lambda s: states.append(s))
watch_after = threading.Event()
zk.get("/compat/p", watch=lambda e: watch_after.set())
zk._connection._socket.shutdown(socket.SHUT_RDWR)
deadline = time.time() + 15
while time.time() < deadline and not (KazooState.SUSPENDED in states and zk.state == KazooState.CONNECTED):
    time.sleep(0.05)
check(zk.state == KazooState.CONNECTED and KazooState.LOST not in states, "resume states %r" % states)
check(zk.client_id[0] == sid, "same session after reconnect")
check(zk.exists("/compat/eph") is not None, "ephemeral survives reconnect")
zk.set("/compat/p", b"after")  # the watch was re-registered with SetWatches
wait_for(watch_after, "watch after reconnect")

# a wrong password: the server answers "expired"; kazoo then starts a fresh session
bad = KazooClient(hosts=HOSTS, timeout=10, client_id=(sid, b"x" * 16))
bad.start(timeout=10)
check(bad.client_id[0] != sid, "bad password must not resume the session")
bad.stop()
bad.close()
check(zk.exists("/compat/eph").ephemeralOwner == sid, "owner session unaffected")

# closing the session removes its ephemerals
zk.stop()
zk.close()
zk3 = KazooClient(hosts=HOSTS, timeout=10)
zk3.start(timeout=10)
check(zk3.exists("/compat/eph") is None, "ephemeral removed on close")
check(zk3.get("/compat/p")[0] == b"after", "data persisted")
zk3.stop()
zk3.close()
print("OK")
