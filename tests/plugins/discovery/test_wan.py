# SPDX-License-Identifier: LGPL-2.1-or-later
"""Two berthd's as datacenters dc1 and dc2, joined over the WAN."""

import shutil
import time

import consul
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
import requests


@pytest.fixture
def pair(discovery_node):
    dc1 = discovery_node("alpha", dc="dc1")
    dc2 = discovery_node("beta", dc="dc2")
    # joins are the admin's: through dc1's admin listener, to dc2's
    assert dc1.admin_consul().agent.join(dc2.admin_addr, wan=True)
    return dc1, dc2


def dns_ask(node, name, rdtype="A"):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=10)


def test_join_and_datacenters(pair, wait_until):
    dc1, dc2 = pair
    c1, c2 = dc1.consul(), dc2.consul()
    assert c1.catalog.datacenters() == ["dc1", "dc2"]
    # the link goes both ways
    wait_until(lambda: c2.catalog.datacenters() == ["dc2", "dc1"], 5, "dc2 to know dc1")
    names = {m["Name"] for m in c1.agent.members(wan=True)}
    assert names == {"alpha.dc1", f"{dc2.admin_addr}.dc2"}
    # the link is stored: it survives a restart
    dc1.restart()
    assert dc1.consul().catalog.datacenters() == ["dc1", "dc2"]

    # dc2 loses its state; dc1's next start links it again
    dc2.stop()
    shutil.rmtree(dc2.state_dir)
    dc2.state_dir.mkdir()
    dc2.start(dc2.extra_args)
    c2 = dc2.consul()
    assert c2.catalog.datacenters() == ["dc2"]
    dc1.restart()
    wait_until(lambda: c2.catalog.datacenters() == ["dc2", "dc1"], 10, "dc1 to re-link dc2")


def test_forwarded_catalog_health_kv(pair):
    dc1, dc2 = pair
    c1, c2 = dc1.consul(), dc2.consul()
    assert c2.agent.service.register("web", service_id="web1", address="10.2.0.1", port=80,
                                     tags=["blue"], check=consul.Check.ttl("60s"))
    c2.agent.check.ttl_pass("service:web1")

    _, rows = c1.catalog.service("web", dc="dc2")
    assert [r["Node"] for r in rows] == ["beta"]
    assert rows[0]["Datacenter"] == "dc2"
    _, rows = c1.catalog.service("web")
    assert rows == []
    _, entries = c1.health.service("web", dc="dc2", passing=True)
    assert entries[0]["Service"]["Address"] == "10.2.0.1"
    _, services = c1.catalog.services(dc="dc2")
    assert services == {"web": ["blue"]}
    _, nodes = c1.catalog.nodes(dc="dc2")
    assert [n["Node"] for n in nodes] == ["beta"]

    # KV, both ways, with the remote index relayed
    assert c1.kv.put("shared/key", "from-dc1", dc="dc2")
    index, item = c2.kv.get("shared/key")
    assert item["Value"] == b"from-dc1"
    index1, item1 = c1.kv.get("shared/key", dc="dc2")
    assert item1["Value"] == b"from-dc1" and index1 == index
    _, local = c1.kv.get("shared/key")
    assert local is None
    r = dc1.get("/v1/kv/nope", params={"dc": "dc2"})
    assert r.status_code == 404
    # a write with a body
    r = dc1.put("/v1/agent/service/register", params={"dc": "dc2"},
                json={"Name": "api", "Port": 81})
    assert r.status_code == 200
    assert "api" in c2.agent.services()
    # our own dc by name is not forwarded
    _, rows = c1.catalog.service("web", dc="dc1")
    assert rows == []


def test_forwarded_blocking_query(pair):
    dc1, dc2 = pair
    c1, c2 = dc1.consul(), dc2.consul()
    index, _ = c1.catalog.services(dc="dc2")
    # longer than the connect timeout (3s), on the connection reused from
    # the request above: the wait must not be cut short
    t0 = time.monotonic()
    r = dc1.get("/v1/catalog/services", params={"dc": "dc2", "index": index, "wait": "3500ms"})
    assert r.status_code == 200
    assert time.monotonic() - t0 >= 3.4
    assert r.headers["X-Consul-Index"] == index
    # and a change in dc2 wakes it
    result = {}

    def block():
        result["r"] = dc1.get("/v1/catalog/services",
                              params={"dc": "dc2", "index": index, "wait": "10s"})

    import threading
    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    c2.agent.service.register("late")
    t.join(10)
    assert "late" in result["r"].json()


def test_dns_across_datacenters(pair):
    dc1, dc2 = pair
    c2 = dc2.consul()
    for i in range(2):
        assert c2.agent.service.register("db", service_id=f"db{i}", address=f"10.2.1.{i + 1}",
                                         port=5432, check=consul.Check.ttl("60s"))
    c2.agent.check.ttl_pass("service:db0")
    resp = dns_ask(dc1, "db.service.dc2.consul.")
    assert resp.rcode() == dns.rcode.NOERROR
    assert [r.address for r in resp.answer[0]] == ["10.2.1.1"]
    resp = dns_ask(dc1, "db.service.dc2.consul.", "SRV")
    assert resp.answer[0][0].port == 5432
    resp = dns_ask(dc1, "db.service.consul.")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    resp = dns_ask(dc1, "nothing.service.dc2.consul.")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    resp = dns_ask(dc1, "beta.node.dc2.consul.")
    assert [r.address for r in resp.answer[0]] == ["127.0.0.1"]
    resp = dns_ask(dc1, "alpha.node.dc2.consul.")
    assert resp.rcode() == dns.rcode.NXDOMAIN


def test_unknown_and_unreachable_datacenter(pair):
    dc1, dc2 = pair
    r = dc1.get("/v1/catalog/services", params={"dc": "dc9"})
    assert r.status_code == 500
    assert r.json()["message"] == "No path to datacenter"
    assert "X-Consul-Index" in r.headers
    c1 = dc1.consul()
    with pytest.raises(consul.ConsulException):
        c1.kv.get("x", dc="dc9")

    dc2.stop()
    t0 = time.monotonic()
    r = dc1.get("/v1/health/service/web", params={"dc": "dc2"})
    assert r.status_code == 500
    assert r.json()["message"] == "No path to datacenter"
    assert time.monotonic() - t0 < 5 * dc1.TIME_SCALE
    r = dc1.put("/v1/kv/a", params={"dc": "dc2"}, data=b"x")
    assert r.status_code == 500
    t0 = time.monotonic()
    resp = dns_ask(dc1, "web.service.dc2.consul.")
    assert resp.rcode() == dns.rcode.SERVFAIL
    assert time.monotonic() - t0 < 5 * dc1.TIME_SCALE
    # dc1 itself still works
    assert dc1.consul().catalog.datacenters() == ["dc1", "dc2"]


def test_join_errors(discovery_node, berth_env):
    dc1 = discovery_node("alpha", dc="dc1", dns=False)
    other = discovery_node("gamma", dc="dc1", dns=False)
    port = berth_env.free_port()
    admin = dc1.admin_url
    r = requests.get(f"{admin}/v1/agent/join/127.0.0.1:{port}", params={"wan": 1}, timeout=30)
    assert r.status_code == 500
    r = requests.get(f"{admin}/v1/agent/join/{other.admin_addr}", params={"wan": 1}, timeout=30)
    assert r.status_code == 400
    r = requests.get(f"{admin}/v1/agent/join/{other.admin_addr}", timeout=30)
    assert r.status_code == 501
    # not on the private listener, and not without a token of the other side
    r = dc1.get(f"/v1/agent/join/{other.admin_addr}", params={"wan": 1})
    assert r.status_code == 404
    r = requests.get(f"{admin}/v1/agent/join/{other.admin_addr}", params={"wan": 1}, timeout=30,
                     headers={"X-Consul-Token": ""})
    assert r.status_code == 403
    assert dc1.consul().catalog.datacenters() == ["dc1"]
