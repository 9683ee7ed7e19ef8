"""Seeds the fuzz corpora (Tests/FuzzTests/Corpus/<target>/) from real client traffic.

A recording proxy sits in front of a coordd server's client port, of the peer ports between the
servers of a 3-server ensemble, of a broker's Kafka port (the broker advertises the proxy, so every
client connection goes through it) and of the admin HTTP ports. kazoo, zkCli.sh, kcat (every
compression codec), kafka-python and confluent-kafka then do ordinary work; each client-to-server
frame is written as one corpus input.
Usage: capture.py BIN_DIR OUT_DIR"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BIN, OUT = sys.argv[1], sys.argv[2]
CAP_PER_TARGET = 300
seen = {}
lock = threading.Lock()


def keep(target, data):
    if not data:
        return
    h = hashlib.sha1(data).hexdigest()[:16]
    with lock:
        s = seen.setdefault(target, set())
        if h in s or len(s) >= CAP_PER_TARGET:
            return
        s.add(h)
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, h), "wb") as f:
        f.write(data)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Recorder:
    """Client-to-server bytes of each connection, cut into 4-byte-length frames (or kept raw)."""

    def __init__(self, kind):
        self.kind, self.buf, self.frames = kind, b"", 0

    def feed(self, data):
        self.buf += data
        if self.kind == "http":
            while b"\r\n\r\n" in self.buf:
                head, _, rest = self.buf.partition(b"\r\n\r\n")
                keep("http", head + b"\r\n\r\n")
                self.buf = rest
            return
        if self.kind == "quorum":
            keep("quorum-stream", b"\x01\x3f" + data)  # auth on, 64-byte reads
            return
        while len(self.buf) >= 4:
            n = int.from_bytes(self.buf[:4], "big", signed=True)
            if n < 0 or len(self.buf) < 4 + n:
                return
            frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
            if self.kind == "zk":
                keep("jute-connect" if self.frames == 0 else "jute-request", frame)
            else:
                keep("kafka-request", frame)
                batches(frame)
            self.frames += 1


def batches(frame):
    """Record batches inside a produce request: found by their magic byte and a length that fits."""
    for i in range(0, len(frame) - 61):
        if frame[i + 16] != 2:
            continue
        n = int.from_bytes(frame[i + 8:i + 12], "big", signed=True)
        if n < 49 or i + 12 + n > len(frame):
            continue
        count = int.from_bytes(frame[i + 57:i + 61], "big", signed=True)
        if not 0 < count < 100000:
            continue
        b = frame[i:i + 12 + n]
        keep("record-batch", b)
        codec = b[22] & 7
        if codec in (1, 2, 3, 4):
            keep("decompress", bytes([codec - 1]) + b[61:])


def kstr(v):
    b = v.encode()
    return len(b).to_bytes(2, "big") + b


def consumer_protocol_seeds():
    """Subscriptions and assignments as Kafka's ConsumerProtocol encodes them (versions 0-3)."""
    topics = [b"", b"orders", b"a" * 200]
    for version in (0, 1, 2, 3):
        for n in (0, 1, 3):
            ts = [f"topic-{i}" for i in range(n)]
            sub = version.to_bytes(2, "big") + len(ts).to_bytes(4, "big") + b"".join(kstr(t) for t in ts)
            sub += (4).to_bytes(4, "big", signed=True) + b"user" if n else (-1).to_bytes(4, "big", signed=True)
            if version >= 1:
                sub += (1).to_bytes(4, "big") + kstr("topic-0") + (2).to_bytes(4, "big") + (0).to_bytes(4, "big") + (1).to_bytes(4, "big")
            if version >= 2:
                sub += (7).to_bytes(4, "big", signed=True)
            if version >= 3:
                sub += kstr("rack-a")
            keep("consumer-protocol", sub)
            asg = version.to_bytes(2, "big") + len(ts).to_bytes(4, "big")
            for t in ts:
                asg += kstr(t) + (2).to_bytes(4, "big") + (0).to_bytes(4, "big") + (5).to_bytes(4, "big")
            asg += (-1).to_bytes(4, "big", signed=True)
            keep("consumer-protocol", asg)
    for t in topics:
        keep("consumer-protocol", (0).to_bytes(2, "big") + (1).to_bytes(4, "big") + len(t).to_bytes(2, "big") + t)


def proxy(listen_port, target_port, kind):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)

    def pump(a, b, rec):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if rec:
                    rec.feed(d)
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve():
        while True:
            try:
                c, _ = srv.accept()
                u = socket.create_connection(("127.0.0.1", target_port))
            except OSError:
                continue
            threading.Thread(target=pump, args=(c, u, Recorder(kind)), daemon=True).start()
            threading.Thread(target=pump, args=(u, c, None), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()


def wait_port(port, timeout=30):
    t = time.time()
    while time.time() - t < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"port {port} never opened")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=120, **kw)


def main():
    consumer_protocol_seeds()
    work = tempfile.mkdtemp(prefix="fuzz-capture-")
    procs = []
    try:
        secret = os.path.join(work, "quorum.secret")
        with open(secret, "w") as f:
            f.write("fuzz corpus capture shared secret\n")
        os.chmod(secret, 0o600)
        cp = [free_port() for _ in range(3)]
        pp = [free_port() for _ in range(3)]
        ap = [free_port() for _ in range(3)]
        # Each server dials the others through a recording proxy of its own.
        via = {(i, j): free_port() for i in range(3) for j in range(3) if i != j}
        for (i, j), port in via.items():
            proxy(port, pp[j], "quorum")
        for i in range(3):
            d = os.path.join(work, f"data{i + 1}")
            os.makedirs(d)
            open(os.path.join(d, "myid"), "w").write(f"{i + 1}\n")
            cfg = (f"tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir={d}\nclientPort={cp[i]}\n"
                   f"clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nquorum.auth.secretFile={secret}\n"
                   f"admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort={ap[i]}\n")
            for j in range(3):
                cfg += f"server.{j + 1}=127.0.0.1:{pp[j] if i == j else via[(i, j)]}:{free_port()}\n"
            open(os.path.join(work, f"zoo{i + 1}.cfg"), "w").write(cfg)
            procs.append(subprocess.Popen([os.path.join(BIN, "coordd"), os.path.join(work, f"zoo{i + 1}.cfg")],
                                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"coord{i + 1}.log"), "w")))
        for p in cp:
            wait_port(p)
        zk_proxy = free_port()
        proxy(zk_proxy, cp[0], "zk")
        http_proxy = free_port()
        proxy(http_proxy, ap[0], "http")
        time.sleep(2)

        # ZooKeeper clients.
        from kazoo.client import KazooClient
        from kazoo.security import make_digest_acl
        zk = KazooClient(hosts=f"127.0.0.1:{zk_proxy}", timeout=10)
        zk.start(timeout=30)
        zk.ensure_path("/fuzz/a/b")
        zk.create("/fuzz/seq-", b"x" * 50, sequence=True)
        zk.create("/fuzz/eph", b"e", ephemeral=True)
        zk.set("/fuzz/a", b"value")
        zk.get("/fuzz/a", watch=lambda e: None)
        zk.get_children("/fuzz", watch=lambda e: None)
        zk.exists("/fuzz/none", watch=lambda e: None)
        tx = zk.transaction()
        tx.create("/fuzz/t1", b"1")
        tx.check("/fuzz/a", 1)
        tx.set_data("/fuzz/a", b"2")
        tx.delete("/fuzz/t1")
        tx.commit()
        zk.add_auth("digest", "user:pass")
        zk.create("/fuzz/acl", b"s", acl=[make_digest_acl("user", "pass", all=True)])
        zk.get_acls("/fuzz/acl")
        zk.set_acls("/fuzz/acl", [make_digest_acl("user", "pass", read=True, write=True, admin=True)])
        zk.sync("/fuzz")
        zk.delete("/fuzz", recursive=True)
        zk.stop()
        # Connect requests differ in timeout, read-only flag and (on reconnect) session id.
        for t, ro in ((5, False), (12, True), (20, False), (30, True)):
            k = KazooClient(hosts=f"127.0.0.1:{zk_proxy}", timeout=t, read_only=ro)
            k.start(timeout=30)
            k.get_children("/")
            k.stop()
        cli = "/usr/share/zookeeper/bin/zkCli.sh"
        for c in (["create", "/cli", "data"], ["ls", "-s", "/"], ["get", "-s", "/cli"], ["set", "/cli", "v2"],
                  ["getAcl", "/cli"], ["stat", "/cli"], ["delete", "/cli"], ["whoami"], ["getAllChildrenNumber", "/"]):
            run([cli, "-server", f"127.0.0.1:{zk_proxy}"] + c)
        for path in ("/commands/mntr", "/commands/stat", "/metrics", "/timeline?limit=5", "/commands/unknown",
                     "/commands/ruok", "/commands/srvr", "/commands/dump", "/health", "/timeline/stream?since=0", "/%zz",
                     "/commands/mntr?x=1&y=%20"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_proxy}{path}", timeout=5).read()
            except Exception:
                pass

        # A broker that advertises the recording proxy, so every client connection goes through it.
        kport, kproxy, kadmin = free_port(), free_port(), free_port()
        proxy(kproxy, kport, "kafka")
        props = os.path.join(work, "server.properties")
        open(props, "w").write(
            f"broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:{kport}\nadvertised.listeners=PLAINTEXT://127.0.0.1:{kproxy}\n"
            f"log.dirs={work}/kafka-logs\nzookeeper.connect=127.0.0.1:{cp[0]}/kafka\nnum.partitions=2\n"
            f"offsets.topic.replication.factor=1\ngroup.initial.rebalance.delay.ms=0\nadmin.listener=127.0.0.1:{kadmin}\n")
        procs.append(subprocess.Popen([os.path.join(BIN, "brokerd"), props], stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(work, "broker.log"), "w")))
        wait_port(kport)
        boot = f"127.0.0.1:{kproxy}"
        time.sleep(1)
        lines = "".join(f"k{i}:value {i} " + "x" * (i % 40) + "\n" for i in range(300))
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            run(["kcat", "-b", boot, "-P", "-t", f"fuzz-{codec}", "-K:", "-z", codec, "-X", "acks=all"], input=lines.encode())
            run(["kcat", "-b", boot, "-C", "-t", f"fuzz-{codec}", "-o", "beginning", "-e", "-q"])
        run(["kcat", "-b", boot, "-L"])
        run(["kcat", "-b", boot, "-G", "fuzz-group", "fuzz-none", "-e", "-q", "-o", "beginning"])
        from kafka import KafkaConsumer, KafkaProducer
        p = KafkaProducer(bootstrap_servers=boot, acks="all", compression_type="gzip", linger_ms=5)
        for i in range(100):
            p.send("fuzz-py", key=f"k{i}".encode(), value=b"v" * i, headers=[("h", b"1")])
        p.flush()
        p.close()
        c = KafkaConsumer("fuzz-py", bootstrap_servers=boot, group_id="fuzz-py-group", auto_offset_reset="earliest",
                          consumer_timeout_ms=4000)
        for _ in c:
            pass
        c.commit()
        c.close()
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
        a = AdminClient({"bootstrap.servers": boot})
        for f in a.create_topics([NewTopic("fuzz-admin", 3, 1, config={"cleanup.policy": "compact"})]).values():
            f.result(20)
        for f in a.create_partitions([NewPartitions("fuzz-admin", 4)]).values():
            f.result(20)
        for f in a.describe_configs([ConfigResource("topic", "fuzz-admin"), ConfigResource("broker", "1")]).values():
            f.result(20)
        a.list_groups(timeout=10)
        for f in a.delete_topics(["fuzz-admin"]).values():
            f.result(20)
        pr = Producer({"bootstrap.servers": boot, "enable.idempotence": True, "compression.type": "zstd"})
        for i in range(200):
            pr.produce("fuzz-idem", key=str(i), value="x" * i)
        pr.flush(20)
    finally:
        for p in procs:
            p.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({t: len(s) for t, s in sorted(seen.items())}))


main()
