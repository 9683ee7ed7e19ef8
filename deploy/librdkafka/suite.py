#!/usr/bin/env python3
"""librdkafka's own integration tests (its tests/ directory) against coordd + 3 brokerd.

    suite.py BIN_DIR RUNNER_DIR REPORT.md [TEST_NUMBER ...]

Starts a standalone coordd and three brokers on free loopback ports (trivup's broker settings where
brokerd has them), writes a test.conf beside the report, runs each test alone (`TESTS=nnnn ./test-runner -L -E`:
broker tests only, no socket-emulation tests, known issues skipped as upstream does) with
TEST_KAFKA_VERSION, and writes a markdown table of the results. A broker that died is reported and
the cluster restarted before the next test.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

KAFKA_VERSION = os.environ.get("TEST_KAFKA_VERSION", "3.9.0")
TEST_TIMEOUT = int(os.environ.get("RDKAFKA_TEST_TIMEOUT", "1200"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class Cluster:
    def __init__(self, bin_dir, brokers=3):
        self.bin_dir = bin_dir
        self.n = brokers
        self.dir = tempfile.mkdtemp(prefix="rdkafka-suite-")
        self.procs = {}
        self.ports = {}

    def start(self):
        zk = free_port()
        data = os.path.join(self.dir, "coord")
        os.makedirs(data, exist_ok=True)
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(f"tickTime=500\ndataDir={data}\nclientPort={zk}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n")
        self.procs["coordd"] = self._spawn("coordd", cfg, "coordd.log")
        if not wait_port(zk, 30):
            raise RuntimeError("coordd did not start: " + self.log("coordd.log"))
        for i in range(1, self.n + 1):
            port = free_port()
            self.ports[i] = port
            logs = os.path.join(self.dir, f"logs{i}")
            os.makedirs(logs, exist_ok=True)
            props = os.path.join(self.dir, f"server{i}.properties")
            with open(props, "w") as f:
                f.write("\n".join([
                    f"broker.id={i}",
                    f"listeners=PLAINTEXT://127.0.0.1:{port}",
                    f"log.dirs={logs}",
                    f"zookeeper.connect=127.0.0.1:{zk}",
                    "zookeeper.session.timeout.ms=6000",
                    f"broker.rack=RACK{i}",
                    "replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector",
                    "num.partitions=4",
                    f"default.replication.factor={min(self.n, 3)}",
                    f"offsets.topic.replication.factor={min(self.n, 3)}",
                    f"transaction.state.log.replication.factor={min(self.n, 3)}",
                    f"transaction.state.log.min.isr={min(self.n, 2)}",
                    # group.initial.rebalance.delay.ms stays at Kafka's 3000 ms: trivup does not set it,
                    # and 0113 expects consumers that subscribe together to share the first generation.
                    "auto.create.topics.enable=true",
                    # 0081 (ACL admin calls) and 0109/0115/0119 (denied topics) need an authorizer;
                    # a topic without ACLs stays open to the tests' anonymous clients.
                    "authorizer.class.name=kafka.security.authorizer.AclAuthorizer",
                    "allow.everyone.if.no.acl.found=true",
                    "delete.topic.enable=true",
                    "num.io.threads=4",
                    "num.network.threads=2",
                    "",
                ]))
            self.procs[i] = self._spawn("brokerd", props, f"broker{i}.log")
        for i, port in self.ports.items():
            if not wait_port(port, 60):
                raise RuntimeError(f"broker {i} did not start: " + self.log(f"broker{i}.log"))
        time.sleep(2)

    def _spawn(self, name, cfg, log):
        out = open(os.path.join(self.dir, log), "ab")
        return subprocess.Popen([os.path.join(self.bin_dir, name), cfg], stdout=out, stderr=out, start_new_session=True)

    def log(self, name, tail=3000):
        try:
            with open(os.path.join(self.dir, name), "rb") as f:
                return f.read()[-tail:].decode("utf-8", "replace")
        except OSError:
            return ""

    def log_sizes(self):
        sizes = {}
        for name in ["coordd.log"] + [f"broker{i}.log" for i in self.ports]:
            try:
                sizes[name] = os.path.getsize(os.path.join(self.dir, name))
            except OSError:
                sizes[name] = 0
        return sizes

    def log_since(self, name, offset, limit=2_000_000):
        """What a daemon logged since `offset` (at most the last `limit` bytes of it)."""
        try:
            with open(os.path.join(self.dir, name), "rb") as f:
                f.seek(0, 2)
                end = f.tell()
                f.seek(max(offset, end - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def dead(self):
        return [k for k, p in self.procs.items() if p.poll() is not None]

    def bootstrap(self):
        return ",".join(f"127.0.0.1:{p}" for p in self.ports.values())

    def stop(self, keep=False):
        for k, p in self.procs.items():
            if k != "coordd" and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for k, p in self.procs.items():
            if k != "coordd":
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
        c = self.procs.get("coordd")
        if c and c.poll() is None:
            c.send_signal(signal.SIGTERM)
            try:
                c.wait(10)
            except subprocess.TimeoutExpired:
                c.kill()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def all_tests(runner_dir):
    """Every test in the runner's table but the manual ones (8000_idle loops forever)."""
    with open(os.path.join(runner_dir, "test.c")) as f:
        src = f.read()
    table = src[src.index("struct test tests[]"):] if "struct test tests[]" in src else src
    tests = set()
    for m in re.finditer(r"_TEST\((\d{4})_\w*\s*,([^;]*?)\),?\n", table):
        if "TEST_F_MANUAL" not in m.group(2):
            tests.add(m.group(1))
    return sorted(tests)


def kafka_tools(bin_dir, into):
    """KAFKA_PATH for the tests that shell out to Kafka's CLI (kafka-topics.sh, kafka-acls.sh,
    kafka-configs.sh): kafkactl speaks the same flags."""
    os.makedirs(os.path.join(into, "bin"), exist_ok=True)
    for tool, cmd in (("kafka-topics.sh", "topics"), ("kafka-acls.sh", "acls"), ("kafka-configs.sh", "configs")):
        path = os.path.join(into, "bin", tool)
        with open(path, "w") as f:
            f.write(f'#!/bin/sh\nexec "{os.path.join(bin_dir, "kafkactl")}" {cmd} "$@"\n')
        os.chmod(path, 0o755)
    return into


def run_test(runner_dir, num, conf, kafka_path, brokers):
    src = os.path.dirname(os.path.abspath(runner_dir))
    env = dict(os.environ, TESTS=num, TEST_KAFKA_VERSION=KAFKA_VERSION, RDKAFKA_TEST_CONF=conf, KAFKA_PATH=kafka_path, BROKERS=brokers,
               LD_LIBRARY_PATH=os.path.join(src, "src") + ":" + os.path.join(src, "src-cpp"))
    start = time.time()
    try:
        p = subprocess.run(["./test-runner", "-L", "-E"], cwd=runner_dir, env=env, capture_output=True, timeout=TEST_TIMEOUT)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out = ((e.stdout or b"") + (e.stderr or b"")).decode("utf-8", "replace")
        rc = "timeout"
    took = time.time() - start
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    # A number may have several rows (e.g. a _mock variant): any failure wins, then any pass.
    rows = re.findall(r"\|\s*" + num + r"_\S+\s*\|\s*(PASSED|FAILED|SKIPPED)\s*\|", out)
    if rc == "timeout":
        status = "TIMEOUT"
    elif re.search(r"TEST FAILURE|### Test \S+.* failed at ", out):
        # Aborted before its summary table (a sibling variant's "SKIPPING TEST" must not hide that).
        status = "FAILED"
    elif rows:
        status = "FAILED" if "FAILED" in rows else "PASSED" if "PASSED" in rows else "SKIPPED"
    elif "No tests to run" in out or "0 tests" in out or re.search(r"SKIPPING TEST", out):
        status = "SKIPPED"
    else:
        status = "PASSED" if rc == 0 else "FAILED"
    reason = ""
    if status in ("FAILED", "TIMEOUT"):
        fails = re.findall(r"(?:### Test .*? failed at [^\n]*\n[^\n]*|TEST FAILURE[^\n]*\n[^\n]*|Test \S+ failed[^\n]*)", out)
        reason = (fails[0] if fails else out[-400:]).replace("\n", " ").replace("|", "/")[:300]
    elif status == "SKIPPED":
        s = re.search(r"SKIPPING TEST[^\n]*|[Ss]kipping[^\n]*", out)
        reason = (s.group(0) if s else "").replace("|", "/")[:200]
    return status, took, reason, out


def main():
    bin_dir, runner_dir, report = sys.argv[1], sys.argv[2], sys.argv[3]
    tests = sys.argv[4:] or all_tests(runner_dir)
    logs = os.path.join(os.path.dirname(os.path.abspath(report)), "librdkafka-logs")
    os.makedirs(logs, exist_ok=True)
    tools = kafka_tools(os.path.abspath(bin_dir), os.path.join(logs, "kafka"))
    cluster = Cluster(bin_dir)
    cluster.start()
    results = []
    try:
        for num in tests:
            conf = os.path.join(logs, "test.conf")
            with open(conf, "w") as f:
                f.write(f"bootstrap.servers={cluster.bootstrap()}\n")
            sizes = cluster.log_sizes()
            status, took, reason, out = run_test(runner_dir, num, conf, tools, cluster.bootstrap())
            with open(os.path.join(logs, f"{num}.log"), "w") as f:
                f.write(out)
            dead = cluster.dead()
            if status in ("FAILED", "TIMEOUT") and not dead:
                # What each daemon logged during this test, beside the test's own log.
                for name, offset in sizes.items():
                    with open(os.path.join(logs, f"{num}-{name}"), "w") as f:
                        f.write(cluster.log_since(name, offset))
            if dead:
                reason = f"daemon(s) {dead} died; " + reason
                status = "FAILED" if status == "PASSED" else status
            results.append((num, status, took, reason))
            print(f"librdkafka {num}: {status} {took:.1f}s {reason}", flush=True)
            if dead:
                for k in dead:
                    name = "coordd.log" if k == "coordd" else f"broker{k}.log"
                    with open(os.path.join(logs, f"{num}-{name}"), "w") as f:
                        f.write(cluster.log(name, 20000))
                cluster.stop()
                cluster = Cluster(bin_dir)
                cluster.start()
    finally:
        cluster.stop()
    counts = {}
    for _, s, _, _ in results:
        counts[s] = counts.get(s, 0) + 1
    with open(report, "w") as f:
        f.write(f"librdkafka tests against coordd + 3 brokerd, TEST_KAFKA_VERSION={KAFKA_VERSION}: "
                + ", ".join(f"{v} {k.lower()}" for k, v in sorted(counts.items())) + "\n\n")
        f.write("| test | result | seconds | note |\n|---|---|---:|---|\n")
        for num, s, took, reason in results:
            f.write(f"| {num} | {s} | {took:.0f} | {reason} |\n")
    print("librdkafka suite: " + ", ".join(f"{v} {k.lower()}" for k, v in sorted(counts.items())))
    return 0 if counts.get("FAILED", 0) + counts.get("TIMEOUT", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
