"""kazoo over TLS against coordd's secureClientPort.
Usage: kazoo_tls.py HOST:PORT CERT_DIR   (CERT_DIR from deploy/certs.sh)"""
import os
import sys
import threading

from kazoo.client import KazooClient

hosts, certs = sys.argv[1], sys.argv[2]
zk = KazooClient(hosts=hosts, use_ssl=True, verify_certs=True,
                 ca=os.path.join(certs, "ca.pem"),
                 certfile=os.path.join(certs, "client.pem"),
                 keyfile=os.path.join(certs, "client.key"),
                 timeout=10)
zk.start(timeout=20)

fired = threading.Event()
seen = []

def watcher(event):
    seen.append(event)
    fired.set()

base = "/tls-kazoo"
zk.ensure_path(base)
path = zk.create(base + "/node", b"first")
assert path == base + "/node", path
data, stat = zk.get(path, watch=watcher)
assert data == b"first" and stat.version == 0, (data, stat)
zk.set(path, b"second" * 5000)  # 30 kB: several TLS records
assert fired.wait(10), "data watch did not fire"
assert seen[0].type == "CHANGED", seen
data, stat = zk.get(path)
assert data == b"second" * 5000 and stat.version == 1
kids = zk.get_children(base)
assert kids == ["node"], kids
seq = [zk.create(base + "/q-", b"", sequence=True) for _ in range(20)]
assert len(set(seq)) == 20
zk.delete(base, recursive=True)
assert zk.exists(base) is None
zk.stop()
zk.close()
print("OK")
