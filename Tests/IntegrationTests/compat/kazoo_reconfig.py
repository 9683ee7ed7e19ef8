"""One reconfig through the real kazoo client, as the superuser ("super:test").
Usage: kazoo_reconfig.py HOST:PORT[,...] joining|leaving|members VALUE
Prints the new /zookeeper/config, then OK."""
import sys

from kazoo.client import KazooClient

hosts, kind, value = sys.argv[1], sys.argv[2], sys.argv[3]
c = KazooClient(hosts=hosts, timeout=10, auth_data=[("digest", "super:test")])
c.start(timeout=20)
args = {"joining": None, "leaving": None, "new_members": None}
args["new_members" if kind == "members" else kind] = value
data, stat = c.reconfig(**args)
seen, _ = c.get("/zookeeper/config")
assert seen == data, (seen, data)
print(data.decode())
print("OK")
c.stop()
