#!/usr/bin/env python3
"""Kafka's classic ZooKeeper layout, read with kazoo as an operator's tool would, off a live
coordd + brokerd cluster. Then deletes the topic with a Kafka admin client and watches the deletion
go through /admin/delete_topics.

Usage: znode_layout.py ZK_PORT BOOTSTRAP TOPIC PARTITIONS RF CONFIG_KEY=VALUE ID=PORT [ID=PORT ...]
Prints OK, or the failed checks and exits 1.
"""
import json
import sys
import threading
import time

from kazoo.client import KazooClient

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def get_json(zk, path):
    data, stat = zk.get(path)
    try:
        return json.loads(data.decode()), stat
    except ValueError:
        failures.append("%s is not JSON: %r" % (path, data[:200]))
        return None, stat


def wait(cond, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def main():
    zk_port, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    partitions, rf = int(sys.argv[4]), int(sys.argv[5])
    cfg_key, cfg_value = sys.argv[6].split("=", 1)
    brokers = {int(i): int(p) for i, p in (a.split("=") for a in sys.argv[7:])}

    zk = KazooClient(hosts="127.0.0.1:%s" % zk_port, timeout=10)
    zk.start(timeout=10)
    try:
        check_layout(zk, topic, partitions, rf, cfg_key, cfg_value, brokers)
        if not failures:
            check_delete(zk, bootstrap, topic)
    finally:
        zk.stop()
        zk.close()
    if failures:
        for f in failures:
            print("FAIL: " + f)
        return 1
    print("OK")
    return 0


def check_layout(zk, topic, partitions, rf, cfg_key, cfg_value, brokers):
    # /brokers/ids/<id>: one ephemeral registration per live broker, with its endpoint.
    ids = sorted(int(c) for c in zk.get_children("/brokers/ids"))
    check(ids == sorted(brokers), "/brokers/ids children %r, want %r" % (ids, sorted(brokers)))
    owners = {}
    for bid, port in brokers.items():
        reg, stat = get_json(zk, "/brokers/ids/%d" % bid)
        owners[bid] = stat.ephemeralOwner
        check(stat.ephemeralOwner != 0, "/brokers/ids/%d is not ephemeral" % bid)
        if reg is None:
            continue
        check(reg.get("host") == "127.0.0.1" and reg.get("port") == port,
              "/brokers/ids/%d host/port %r:%r, want 127.0.0.1:%d" % (bid, reg.get("host"), reg.get("port"), port))
        check("PLAINTEXT://127.0.0.1:%d" % port in (reg.get("endpoints") or []),
              "/brokers/ids/%d endpoints %r" % (bid, reg.get("endpoints")))
        check(isinstance(reg.get("version"), int), "/brokers/ids/%d has no integer version" % bid)

    # /controller: ephemeral, held by a live broker's session; /controller_epoch persistent.
    ctrl, cstat = get_json(zk, "/controller")
    check(cstat.ephemeralOwner != 0, "/controller is not ephemeral")
    epoch_data, estat = zk.get("/controller_epoch")
    check(estat.ephemeralOwner == 0, "/controller_epoch is ephemeral")
    try:
        epoch = int(epoch_data.decode())
    except ValueError:
        epoch = -1
    check(epoch >= 1, "/controller_epoch %r" % epoch_data)
    if ctrl is not None:
        cid = ctrl.get("brokerid")
        check(cid in brokers, "/controller brokerid %r not a live broker" % cid)
        check(cstat.ephemeralOwner == owners.get(cid),
              "/controller owner 0x%x is not broker %r's session 0x%x" % (cstat.ephemeralOwner, cid, owners.get(cid, 0)))

    # /brokers/topics/<t>: the replica assignment; one state znode per partition.
    assign, tstat = get_json(zk, "/brokers/topics/" + topic)
    check(tstat.ephemeralOwner == 0, "topic znode is ephemeral")
    replicas = {}
    if assign is not None:
        parts = assign.get("partitions") or {}
        check(sorted(parts) == [str(p) for p in range(partitions)], "assignment partitions %r" % parts)
        for p, reps in parts.items():
            replicas[int(p)] = reps
            check(len(reps) == rf and len(set(reps)) == rf and set(reps) <= set(brokers),
                  "partition %s replicas %r" % (p, reps))
    kids = sorted(zk.get_children("/brokers/topics/%s/partitions" % topic), key=int)
    check(kids == [str(p) for p in range(partitions)], "partitions children %r" % kids)
    for p in range(partitions):
        path = "/brokers/topics/%s/partitions/%d/state" % (topic, p)
        st, sstat = get_json(zk, path)
        check(sstat.ephemeralOwner == 0, path + " is ephemeral")
        if st is None:
            continue
        for key in ("leader", "leader_epoch", "isr", "controller_epoch", "version"):
            check(key in st, "%s lacks %s: %r" % (path, key, st))
        isr = st.get("isr") or []
        check(st.get("leader") in isr, "%s leader %r not in isr %r" % (path, st.get("leader"), isr))
        check(set(isr) <= set(replicas.get(p, [])), "%s isr %r not within replicas %r" % (path, isr, replicas.get(p)))
        check(st.get("leader") == (replicas.get(p) or [None])[0],
              "%s leader %r is not the preferred replica of %r" % (path, st.get("leader"), replicas.get(p)))
        check(isinstance(st.get("leader_epoch"), int) and st["leader_epoch"] >= 0, "%s leader_epoch %r" % (path, st.get("leader_epoch")))
        check(1 <= (st.get("controller_epoch") or 0) <= epoch, "%s controller_epoch %r vs %d" % (path, st.get("controller_epoch"), epoch))

    # /config/topics/<t>: the topic's overrides as given at creation.
    conf, _ = get_json(zk, "/config/topics/" + topic)
    if conf is not None:
        check((conf.get("config") or {}).get(cfg_key) == cfg_value, "/config/topics/%s %r" % (topic, conf))
        check(conf.get("version") == 1, "/config/topics/%s version %r" % (topic, conf.get("version")))


def check_delete(zk, bootstrap, topic):
    from confluent_kafka.admin import AdminClient

    # The request is a child of /admin/delete_topics; the controller removes it once done, so
    # watch for its creation rather than poll for it.
    requested = threading.Event()
    check(zk.exists("/admin/delete_topics") is not None, "/admin/delete_topics missing")
    zk.exists("/admin/delete_topics/" + topic, watch=lambda e: e.type == "CREATED" and requested.set())
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fut = admin.delete_topics([topic], operation_timeout=20, request_timeout=30)[topic]
    try:
        fut.result(timeout=40)
    except Exception as e:  # noqa: BLE001 - reported as a check failure
        failures.append("delete_topics: %s" % e)
    check(requested.wait(15), "/admin/delete_topics/%s was never created" % topic)
    check(wait(lambda: zk.exists("/brokers/topics/" + topic) is None, 30), "/brokers/topics/%s still there" % topic)
    check(wait(lambda: zk.exists("/admin/delete_topics/" + topic) is None, 30), "deletion request never removed")
    check(wait(lambda: zk.exists("/config/topics/" + topic) is None, 30), "/config/topics/%s still there" % topic)


if __name__ == "__main__":
    sys.exit(main())
