"""Persistent watches over the raw ZooKeeper protocol (kazoo 2.11 has no addWatch): addWatch,
checkWatches, removeWatches, setWatches2 on reconnect. Prints one line per answer and per event,
so coordd's output can be compared with ZooKeeper's.
Usage: persistent_watches.py PORT"""
import socket
import struct
import sys
import time


class Conn:
    def __init__(self, port, session=0, password=b"\0" * 16):
        deadline = time.time() + 20
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
                self.send(struct.pack(">iqiqi", 0, 0, 10000, session, len(password)) + password + b"\0")
                body = self.recv_frame()
                break
            except (ConnectionError, socket.timeout, struct.error):
                # ZooKeeper answers ruok before its server runs and resets sessions meanwhile.
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        _, _, self.session, n = struct.unpack(">iiqi", body[:20])
        self.password = body[20:20 + n]
        self.xid = 0
        self.events = []

    def send(self, body):
        self.s.sendall(struct.pack(">i", len(body)) + body)

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def recv_frame(self):
        (n,) = struct.unpack(">i", self.recv_exact(4))
        return self.recv_exact(n)

    def call(self, op, body, xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        self.send(struct.pack(">ii", xid, op) + body)
        while True:
            f = self.recv_frame()
            rxid, _, err = struct.unpack(">iqi", f[:16])
            if rxid == -1:
                etype, _, plen = struct.unpack(">iii", f[16:28])
                self.events.append("event %d %s" % (etype, f[28:28 + plen].decode()))
                continue
            return err, f[16:]

    def take_events(self):
        # Events for writes applied before this request precede its reply.
        self.call(3, s("/") + b"\0")
        ev, self.events = self.events, []
        return ev


def s(text):
    b = text.encode()
    return struct.pack(">i", len(b)) + b


def strings(items):
    return struct.pack(">i", len(items)) + b"".join(s(i) for i in items)


OPEN_ACL = struct.pack(">i", 1) + struct.pack(">i", 31) + s("world") + s("anyone")


def create(c, path):
    return c.call(1, s(path) + s("") + OPEN_ACL + struct.pack(">i", 0))[0]


def set_data(c, path, data):
    return c.call(5, s(path) + s(data) + struct.pack(">i", -1))[0]


def delete(c, path):
    return c.call(2, s(path) + struct.pack(">i", -1))[0]


def add_watch(c, path, mode):
    err, body = c.call(106, s(path) + struct.pack(">i", mode))
    return "%d %s" % (err, body.hex())


def check(c, path, wtype):
    return c.call(17, s(path) + struct.pack(">i", wtype))[0]


def remove(c, path, wtype):
    return c.call(18, s(path) + struct.pack(">i", wtype))[0]


def main():
    port = int(sys.argv[1])
    w, m = Conn(port), Conn(port)
    out = []
    log = out.append
    log("addWatch recursive /pw: %s" % add_watch(w, "/pw", 1))
    log("addWatch persistent /pw/q: %s" % add_watch(w, "/pw/q", 0))
    log("check /pw recursive: %d" % check(w, "/pw", 5))
    log("check /pw persistent: %d" % check(w, "/pw", 4))
    log("check /pw any: %d" % check(w, "/pw", 3))
    log("check /pw data: %d" % check(w, "/pw", 2))
    log("check /pw/q persistent: %d" % check(w, "/pw/q", 4))
    log("check /pw/q recursive on other connection: %d" % check(m, "/pw", 5))
    for step in (lambda: create(m, "/pw"), lambda: create(m, "/pw/a"), lambda: set_data(m, "/pw/a", "1"),
                 lambda: create(m, "/pw/q"), lambda: create(m, "/pw/q/z"), lambda: set_data(m, "/pw/q", "2"),
                 lambda: set_data(m, "/pw/q/z", "3"), lambda: delete(m, "/pw/q/z"), lambda: delete(m, "/pw/q"),
                 lambda: create(m, "/pw/q"), lambda: delete(m, "/pw/a"), lambda: create(m, "/elsewhere")):
        step()
    for e in w.take_events():
        log(e)
    log("remove /pw recursive: %d" % remove(w, "/pw", 5))
    log("remove /pw recursive again: %d" % remove(w, "/pw", 5))
    log("remove /nothing children: %d" % remove(w, "/nothing", 1))
    log("remove /nothing data: %d" % remove(w, "/nothing", 2))
    set_data(m, "/pw/q", "4")
    create(m, "/pw/b")
    for e in w.take_events():
        log(e)
    # Reconnect with the same session and re-arm the persistent watch with setWatches2.
    session, password = w.session, w.password
    w.s.close()
    w2 = Conn(port, session, password)
    err, _ = w2.call(105, struct.pack(">q", 0) + strings([]) + strings([]) + strings([]) + strings(["/pw/q"]) + strings(["/pw"]), xid=-8)
    log("setWatches2: %d" % err)
    log("after reconnect check /pw recursive: %d" % check(w2, "/pw", 5))
    log("after reconnect check /pw/q persistent: %d" % check(w2, "/pw/q", 4))
    set_data(m, "/pw/q", "5")
    create(m, "/pw/c")
    for e in w2.take_events():
        log(e)
    # A persistent watch's child entry removed: its data entry stays persistent.
    log("remove /pw/q children: %d" % remove(w2, "/pw/q", 1))
    log("check /pw/q children: %d" % check(w2, "/pw/q", 1))
    log("check /pw/q data: %d" % check(w2, "/pw/q", 2))
    set_data(m, "/pw/q", "6")
    set_data(m, "/pw/q", "7")
    create(m, "/pw/q/y")
    for e in w2.take_events():
        log(e)
    # 3.8: a getData watch on a persistent path makes its data entry one-shot (ZOOKEEPER-4466).
    log("addWatch persistent /k: %s" % add_watch(w2, "/k", 0))
    create(m, "/k")
    log("getData /k watch: %d" % w2.call(4, s("/k") + b"\1")[0])
    set_data(m, "/k", "1")
    set_data(m, "/k", "2")
    create(m, "/k/c")
    create(m, "/k/d")
    for e in w2.take_events():
        log(e)
    log("addWatch bad mode: %s" % add_watch(w2, "/k", 7))
    log("remove /pw/q any: %d" % remove(w2, "/pw/q", 3))
    log("remove /pw/q any again: %d" % remove(w2, "/pw/q", 3))
    log("remove /pw any: %d" % remove(w2, "/pw", 3))
    print("\n".join(out))
    print("OK")


main()
