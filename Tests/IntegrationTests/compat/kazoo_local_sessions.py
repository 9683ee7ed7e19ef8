"""ZooKeeper local sessions through kazoo. Usage: kazoo_local_sessions.py HOST_A HOST_B|- upgrading|plain
A session made on A lives on A only: its writes work, another server does not know it (skipped
when HOST_B is "-": a standalone server, whose watcher then connects to A), and an
ephemeral either upgrades it (upgrading: the node then exists everywhere and goes with the
session) or is refused (plain: EphemeralOnLocalSessionError). Prints OK."""
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import EphemeralOnLocalSessionError, NoNodeError

a, b, mode = sys.argv[1], sys.argv[2], sys.argv[3]
c = KazooClient(hosts=a, timeout=10)
c.start(timeout=20)
sid, pw = c.client_id
c.create("/ls-persistent", b"p")
assert c.get("/ls-persistent")[0] == b"p"

if b == "-":
    b = a
else:
    # Another server does not know a local session: it answers expired and kazoo starts afresh.
    other = KazooClient(hosts=b, timeout=10, client_id=(sid, pw))
    states = []
    other.add_listener(states.append)
    try:
        other.start(timeout=10)
    except Exception as e:
        states.append(type(e).__name__)
    assert other.client_id is None or other.client_id[0] != sid, "server B took session %x" % sid
    other.stop()

if mode == "plain":
    try:
        c.create("/ls-eph", b"e", ephemeral=True)
        raise SystemExit("an ephemeral on a local session was created")
    except EphemeralOnLocalSessionError:
        pass
else:
    c.create("/ls-eph", b"e", ephemeral=True)
    watcher = KazooClient(hosts=b, timeout=10)
    watcher.start(timeout=20)
    watcher.sync("/ls-eph")
    _, stat = watcher.get("/ls-eph")
    assert stat.ephemeralOwner == sid, (hex(stat.ephemeralOwner), hex(sid))
    c.stop()
    deadline = time.time() + 20
    while time.time() < deadline and watcher.exists("/ls-eph"):
        time.sleep(0.1)
    assert watcher.exists("/ls-eph") is None, "the ephemeral outlived its session"
    watcher.stop()
print("OK")
