"""Runs kazoo's own upstream tests against running coordd servers.
Usage: kazoo_upstream.py HOST:PORT[,HOST:PORT...] PYTEST_ARGS..."""
import os
import sys

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
    def __init__(self, address):
        self.address = address
        self.secure_address = address
        self.running = True

    def run(self):
        pass

    def stop(self):
        pass

    def destroy(self):
        pass


class Cluster(list):
    def start(self):
        pass

    def stop(self):
        pass

    def terminate(self):
        pass


cluster = Cluster(Server(a) for a in sys.argv[1].split(","))
harness.get_global_cluster = lambda: cluster
tests = os.path.join(os.path.dirname(kazoo.__file__), "tests")
sys.exit(pytest.main(["-p", "no:cacheprovider", "--rootdir", tests, *[a.replace("@TESTS@", tests) for a in sys.argv[2:]]]))
