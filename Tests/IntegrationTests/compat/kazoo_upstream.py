"""Runs kazoo's own upstream tests against running coordd servers.
Usage: kazoo_upstream.py HOST:PORT[,HOST:PORT...] PYTEST_ARGS...
For kazoo's TLS tests set KAZOO_SECURE_ADDRESSES (HOST:PORT,... of secureClientPort, in the same order)
and KAZOO_SSL_DIR (deploy/certs.sh output: ca.pem, client.pem, client.key).
For test_sasl.py's Digest classes the coordd needs SASL with kazoo's harness users (user_super="super_secret",
user_jaasuser="jaas_password"; see CoordSaslTests); its GSSAPI class needs Kerberos, which coordd does not have."""
import atexit
import json
import os
import signal
import subprocess
import sys
import time

import types

# kazoo.testing.common imports pyOpenSSL and pyjks only to make certificates for its own Java cluster.
for mod in ("OpenSSL", "jks"):
    try:
        __import__(mod)
    except ImportError:
        sys.modules[mod] = types.ModuleType(mod)

import kazoo
import kazoo.testing.harness as harness
import pytest


class Server:
    """With KAZOO_SERVER_PIDS (the servers' pids, in address order) and KAZOO_SERVER_COMMANDS (a
    JSON list of each server's argv) stop kills a server and run starts it again, as
    TestReadOnlyMode needs; servers started here are killed when the run ends. Without them both
    do nothing."""

    def __init__(self, address, secure_address, pid=None, command=None):
        self.address = address
        self.secure_address = secure_address
        self.pid = pid
        self.command = command
        self.running = True

    def run(self):
        if self.command and not self.running:
            p = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append(p)
            self.pid = p.pid
        self.running = True

    def stop(self):
        if self.pid and self.running:
            os.kill(self.pid, signal.SIGKILL)
            time.sleep(0.2)
        self.running = False

    def destroy(self):
        pass


started = []
atexit.register(lambda: [p.kill() for p in started])


class Cluster(list):
    def get_ssl_client_configuration(self):
        d = os.environ.get("KAZOO_SSL_DIR")
        if not d:
            raise RuntimeError("SSL not configured: set KAZOO_SSL_DIR")
        read = lambda name: open(os.path.join(d, name), "rb").read()
        return {"client_key": read("client.key"), "client_cert": read("client.pem"), "ca_cert": read("ca.pem")}

    def start(self):
        pass

    def stop(self):
        pass

    def terminate(self):
        pass


addresses = sys.argv[1].split(",")
secure = os.environ.get("KAZOO_SECURE_ADDRESSES", "").split(",") if os.environ.get("KAZOO_SECURE_ADDRESSES") else addresses
pids = [int(p) for p in os.environ.get("KAZOO_SERVER_PIDS", "").split(",") if p]
commands = json.loads(os.environ.get("KAZOO_SERVER_COMMANDS", "[]"))
cluster = Cluster(Server(a, s, pids[i] if i < len(pids) else None, commands[i] if i < len(commands) else None)
                  for i, (a, s) in enumerate(zip(addresses, secure)))
harness.get_global_cluster = lambda: cluster
tests = os.path.join(os.path.dirname(kazoo.__file__), "tests")
sys.exit(pytest.main(["-p", "no:cacheprovider", "--rootdir", tests, *[a.replace("@TESTS@", tests) for a in sys.argv[2:]]]))
