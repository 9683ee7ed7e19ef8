"""Runs kazoo's own upstream tests against running coordd servers.
Usage: kazoo_upstream.py HOST:PORT[,HOST:PORT...] PYTEST_ARGS...
For kazoo's TLS tests set KAZOO_SECURE_ADDRESSES (HOST:PORT,... of secureClientPort, in the same order)
and KAZOO_SSL_DIR (deploy/certs.sh output: ca.pem, client.pem, client.key).
For test_sasl.py's Digest classes the coordd needs SASL with kazoo's harness users (user_super="super_secret",
user_jaasuser="jaas_password"; see CoordSaslTests); its GSSAPI class needs Kerberos, which coordd does not have."""
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
    def __init__(self, address, secure_address):
        self.address = address
        self.secure_address = secure_address
        self.running = True

    def run(self):
        pass

    def stop(self):
        pass

    def destroy(self):
        pass


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
cluster = Cluster(Server(a, s) for a, s in zip(addresses, secure))
harness.get_global_cluster = lambda: cluster
tests = os.path.join(os.path.dirname(kazoo.__file__), "tests")
sys.exit(pytest.main(["-p", "no:cacheprovider", "--rootdir", tests, *[a.replace("@TESTS@", tests) for a in sys.argv[2:]]]))
