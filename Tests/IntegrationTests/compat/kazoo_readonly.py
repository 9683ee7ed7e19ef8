"""kazoo in read-only mode against a coordd cut off from its quorum.
Usage: kazoo_readonly.py HOST:PORT PATH EXPECTED_DATA. Progress lines go to stderr:
RO-OK once connected read-only (reads answer, writes refused with NotReadOnly, a client that
does not allow read-only cannot connect), then RW-OK once the quorum is back and the client
moved to a read-write session (the test restarts the other servers in between)."""
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KeeperState

host, path, expected = sys.argv[1], sys.argv[2], sys.argv[3].encode()
log = lambda s: (sys.stderr.write(s + "\n"), sys.stderr.flush())

plain = KazooClient(hosts=host, timeout=4)
try:
    plain.start(timeout=4)
    raise SystemExit("a client without canBeReadOnly connected to a server without quorum")
except KazooTimeoutError:
    pass
finally:
    plain.stop()

c = KazooClient(hosts=host, timeout=10, read_only=True)
ro, rw = threading.Event(), threading.Event()


@c.add_listener
def state(s):
    if c.client_state == KeeperState.CONNECTED_RO:
        ro.set()
    elif c.client_state == KeeperState.CONNECTED:
        rw.set()


c.start(timeout=30)
assert ro.wait(30) or c.client_state == KeeperState.CONNECTED_RO, c.client_state
data, _ = c.get(path)
assert data == expected, data
try:
    c.create("/ro-write")
    raise SystemExit("a write succeeded in read-only mode")
except NotReadOnlyCallError:
    pass
time.sleep(3)  # a few pings on the read-only session
assert c.get(path)[0] == expected
log("RO-OK")
assert rw.wait(60), "never back to read-write: %s" % c.client_state
c.retry(c.create, "/rw-write", b"ok")
assert c.get("/rw-write")[0] == b"ok"
log("RW-OK")
c.stop()
