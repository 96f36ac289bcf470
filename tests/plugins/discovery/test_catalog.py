# SPDX-License-Identifier: LGPL-2.1-or-later
"""Service catalog, agent and health API, driven by python-consul unchanged."""

import threading
import time

import consul
import pytest


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1", dns=False)


def test_agent_service_register_deregister(node):
    c = node.consul()
    assert c.agent.service.register(
        "web", service_id="web1", address="127.0.0.2", port=8080,
        tags=["v1", "prod"], enable_tag_override=True)
    services = c.agent.services()
    assert services["web1"]["Service"] == "web"
    assert services["web1"]["Tags"] == ["v1", "prod"]
    assert services["web1"]["Port"] == 8080
    assert services["web1"]["Address"] == "127.0.0.2"
    assert services["web1"]["EnableTagOverride"] is True

    r = node.get("/v1/agent/service/web1")
    assert r.status_code == 200 and r.json()["ID"] == "web1"

    # python-consul deregisters with GET; PUT works too
    assert c.agent.service.deregister("web1")
    assert c.agent.services() == {}
    assert node.get("/v1/agent/service/web1").status_code == 404
    assert c.agent.service.register("web", service_id="web2")
    assert node.put("/v1/agent/service/deregister/web2").status_code == 200
    assert c.agent.services() == {}
    # unknown id
    assert node.put("/v1/agent/service/deregister/nope").status_code == 404


def test_meta_weights_tagged_addresses_kept(node):
    body = {"name": "api", "ID": "api1", "port": 9000,
            "Meta": {"version": "2"}, "Weights": {"Passing": 5, "Warning": 2},
            "TaggedAddresses": {"lan": {"address": "10.0.0.1", "port": 9000}}}
    r = node.put("/v1/agent/service/register", json=body)
    assert r.status_code == 200, r.text
    s = node.get("/v1/agent/service/api1").json()
    assert s["Meta"] == {"version": "2"}
    assert s["Weights"] == {"Passing": 5, "Warning": 2}
    assert s["TaggedAddresses"]["lan"]["address"] == "10.0.0.1"
    rows = node.get("/v1/catalog/service/api").json()
    assert rows[0]["ServiceMeta"] == {"version": "2"}
    assert rows[0]["ServiceWeights"] == {"Passing": 5, "Warning": 2}
    h = node.get("/v1/health/service/api").json()
    assert h[0]["Service"]["Meta"] == {"version": "2"}


@pytest.mark.parametrize("body", [
    {},
    {"Name": 5},
    {"Name": "x", "Port": "80"},
    {"Name": "x", "Port": 70000},
    {"Name": "x", "Tags": "a"},
    {"Name": "x", "Tags": [1]},
    {"Name": "x", "Meta": {"a": 1}},
    {"Name": "x", "Check": {"TTL": "bogus"}},
    {"Name": "x", "Check": {"HTTP": "http://127.0.0.1:1/"}},  # no interval
    {"Name": "x", "Check": {"Status": "fine", "TTL": "5s"}},
    {"Name": "x", "Check": {}},
    {"Name": "x", "Check": {"DockerContainerID": "abc", "Shell": "/bin/sh",
                            "Script": "true", "Interval": "10s"}},
    {"Name": "x", "Check": {"GRPC": "127.0.0.1:1", "Interval": "10s"}},
    {"Name": "x", "Check": consul.Check.docker("abc", "/bin/sh", "true", "10s")},
])
def test_bad_service_registration(node, body):
    r = node.put("/v1/agent/service/register", json=body)
    assert r.status_code == 400, r.text
    assert "message" in r.json()
    assert node.get("/v1/agent/services").json() == {}
    assert node.get("/v1/agent/checks").json() == {}


def test_bad_json_body(node):
    r = node.put("/v1/agent/service/register", data=b"{nope")
    assert r.status_code == 400
    r = node.put("/v1/catalog/register", data=b"[1]")
    assert r.status_code == 400
    r = node.put("/v1/catalog/register", json={"Node": "x"})
    assert r.status_code == 400
    assert node.get("/v1/catalog/nodes").json()[0]["Node"] == "node1"
    assert len(node.get("/v1/catalog/nodes").json()) == 1


def test_ttl_check_pass_warn_fail(node):
    c = node.consul()
    assert c.agent.service.register("db", service_id="db1", port=5432,
                                    check=consul.Check.ttl("30s"))
    checks = c.agent.checks()
    assert checks["service:db1"]["Status"] == "critical"
    assert checks["service:db1"]["ServiceName"] == "db"
    assert c.agent.check.ttl_pass("service:db1", "all good")
    chk = c.agent.checks()["service:db1"]
    assert chk["Status"] == "passing" and chk["Output"] == "all good"
    assert c.agent.check.ttl_warn("service:db1", "slow")
    assert c.agent.checks()["service:db1"]["Status"] == "warning"
    assert c.agent.check.ttl_fail("service:db1")
    assert c.agent.checks()["service:db1"]["Status"] == "critical"
    # PUT works too, and /update with a body
    assert node.put("/v1/agent/check/pass/service:db1").status_code == 200
    assert c.agent.checks()["service:db1"]["Status"] == "passing"
    r = node.put("/v1/agent/check/update/service:db1",
                 json={"Status": "warning", "Output": "disk 91%"})
    assert r.status_code == 200
    chk = c.agent.checks()["service:db1"]
    assert chk["Status"] == "warning" and chk["Output"] == "disk 91%"
    r = node.put("/v1/agent/check/update/service:db1", json={"Status": "meh"})
    assert r.status_code == 400
    assert node.get("/v1/agent/check/pass/nope").status_code == 404


def test_ttl_expires(node, wait_until):
    c = node.consul()
    assert c.agent.check.register("heartbeat", check=consul.Check.ttl("400ms"),
                                  check_id="hb")
    assert c.agent.check.ttl_pass("hb")
    assert c.agent.checks()["hb"]["Status"] == "passing"
    wait_until(lambda: c.agent.checks()["hb"]["Status"] == "critical", 5,
               "the TTL to expire")
    assert "TTL expired" in c.agent.checks()["hb"]["Output"]
    assert c.agent.check.deregister("hb")
    assert c.agent.checks() == {}


def test_several_checks_ids(node):
    body = {"Name": "multi", "ID": "m1",
            "Checks": [{"TTL": "30s"}, {"TTL": "30s", "Name": "second"}]}
    assert node.put("/v1/agent/service/register", json=body).status_code == 200
    checks = node.get("/v1/agent/checks").json()
    assert set(checks) == {"service:m1:1", "service:m1:2"}
    assert checks["service:m1:2"]["Name"] == "second"
    # re-registering without checks drops them
    assert node.put("/v1/agent/service/register",
                    json={"Name": "multi", "ID": "m1"}).status_code == 200
    assert node.get("/v1/agent/checks").json() == {}


def test_check_register_for_unknown_service(node):
    r = node.put("/v1/agent/check/register",
                 json={"Name": "x", "TTL": "10s", "ServiceID": "ghost"})
    assert r.status_code == 400
    assert node.get("/v1/agent/checks").json() == {}


def test_catalog_and_health_queries(node):
    c = node.consul()
    for i, tags in enumerate([["a", "prod"], ["b"], ["a"]]):
        assert c.agent.service.register("web", service_id=f"web{i}", port=8000 + i,
                                        address=f"127.0.0.{i + 10}", tags=tags,
                                        check=consul.Check.ttl("60s"))
    c.agent.check.ttl_pass("service:web0")
    c.agent.check.ttl_warn("service:web1")
    # web2 stays critical

    _, services = c.catalog.services()
    assert sorted(services["web"]) == ["a", "b", "prod"]
    _, rows = c.catalog.service("web")
    assert [r["ServiceID"] for r in rows] == ["web0", "web1", "web2"]
    _, rows = c.catalog.service("web", tag="a")
    assert [r["ServiceID"] for r in rows] == ["web0", "web2"]
    assert rows[0]["ServicePort"] == 8000 and rows[0]["ServiceAddress"] == "127.0.0.10"

    _, entries = c.health.service("web")
    assert len(entries) == 3
    _, entries = c.health.service("web", passing=True)
    assert [e["Service"]["ID"] for e in entries] == ["web0"]
    _, entries = c.health.service("web", tag="b")
    assert [e["Service"]["ID"] for e in entries] == ["web1"]
    # the node's serfHealth check and the service's
    assert [x["Status"] for x in entries[0]["Checks"] if x["ServiceID"]] == ["warning"]
    assert entries[0]["Node"]["Node"] == "node1"

    _, checks = c.health.checks("web")
    assert len(checks) == 3
    _, crit = c.health.state("critical")
    assert [x["CheckID"] for x in crit] == ["service:web2"]
    _, passing = c.health.state("passing")
    assert [x["CheckID"] for x in passing] == ["serfHealth", "service:web0"]
    _, anyst = c.health.state("any")
    assert len(anyst) == 4
    assert node.get("/v1/health/state/bogus").status_code == 400
    _, nodechecks = c.health.node("node1")
    assert len(nodechecks) == 4

    _, nodes = c.catalog.nodes()
    assert [n["Node"] for n in nodes] == ["node1"]
    _, info = c.catalog.node("node1")
    assert set(info["Services"]) == {"web0", "web1", "web2"}
    _, info = c.catalog.node("ghost")
    assert info is None
    _, entries = c.health.service("nothing")
    assert entries == []


def test_catalog_register_external_node(node):
    c = node.consul()
    assert c.catalog.register(
        "ext1", "10.1.2.3",
        service={"Service": "pg", "ID": "pg1", "Port": 5432, "Tags": ["primary"]},
        check={"Name": "pg alive", "CheckID": "pg-alive", "Status": "passing",
               "ServiceID": "pg1"})
    # python-consul 0.7 has no node_meta: raw request, lower-case keys
    r = node.put("/v1/catalog/register", json={
        "node": "ext2", "address": "10.1.2.4", "nodemeta": {"rack": "r2"},
        "service": {"service": "pg", "id": "pg2", "port": 5432}})
    assert r.status_code == 200 and r.json() is True
    r = node.put("/v1/catalog/register", json={
        "Node": "ext1", "Address": "10.1.2.3", "NodeMeta": {"rack": "r1"}})
    assert r.status_code == 200
    _, nodes = c.catalog.nodes()
    assert [n["Node"] for n in nodes] == ["ext1", "ext2", "node1"]
    _, rows = c.catalog.service("pg")
    assert {r["Address"] for r in rows} == {"10.1.2.3", "10.1.2.4"}
    r = node.get("/v1/catalog/service/pg", params={"node-meta": "rack:r2"})
    assert [x["Node"] for x in r.json()] == ["ext2"]
    r = node.get("/v1/catalog/nodes", params={"node-meta": "rack:r1"})
    assert [x["Node"] for x in r.json()] == ["ext1"]
    _, entries = c.health.service("pg", passing=True)
    # ext2 has no checks: passing
    assert sorted(e["Node"]["Node"] for e in entries) == ["ext1", "ext2"]
    # agent endpoints only show this node
    assert c.agent.services() == {}

    assert c.catalog.deregister("ext1", service_id="pg1")
    _, rows = c.catalog.service("pg")
    assert [r["Node"] for r in rows] == ["ext2"]
    _, checks = c.health.node("ext1")
    assert checks == []
    assert c.catalog.deregister("ext2")
    # the agent's own node stays
    r = node.put("/v1/catalog/deregister", json={"Node": "node1"})
    assert r.status_code == 400
    index = node.get("/v1/catalog/nodes").headers["X-Consul-Index"]
    r = node.put("/v1/catalog/deregister", json={"Node": "ghost"})
    assert r.status_code == 200
    assert node.get("/v1/catalog/nodes").headers["X-Consul-Index"] == index
    _, nodes = c.catalog.nodes()
    assert [n["Node"] for n in nodes] == ["ext1", "node1"]
    _, services = c.catalog.services()
    assert services == {}


def test_maintenance_modes(node):
    c = node.consul()
    assert c.agent.service.register("web", service_id="web1", check=consul.Check.ttl("60s"))
    c.agent.check.ttl_pass("service:web1")
    _, entries = c.health.service("web", passing=True)
    assert len(entries) == 1
    assert c.agent.service.maintenance("web1", "true", "deploying")
    checks = c.agent.checks()
    assert checks["_service_maintenance:web1"]["Status"] == "critical"
    assert checks["_service_maintenance:web1"]["Notes"] == "deploying"
    _, entries = c.health.service("web", passing=True)
    assert entries == []
    assert c.agent.service.maintenance("web1", "false")
    _, entries = c.health.service("web", passing=True)
    assert len(entries) == 1
    assert c.agent.maintenance("true", "kernel upgrade")
    _, entries = c.health.service("web", passing=True)
    assert entries == []
    assert c.agent.maintenance("false")
    _, entries = c.health.service("web", passing=True)
    assert len(entries) == 1
    assert node.put("/v1/agent/maintenance").status_code == 400
    assert node.put("/v1/agent/service/maintenance/ghost?enable=true").status_code == 404


def test_members(node):
    c = node.consul()
    members = c.agent.members()
    assert [m["Name"] for m in members] == ["node1"]
    assert members[0]["Tags"]["dc"] == "dc1"
    assert members[0]["Status"] == 1


def _blocking(node, path, index, wait="10s"):
    """Start a blocking GET in a thread; returns (thread, result dict)."""
    result = {}

    def run():
        t0 = time.monotonic()
        r = node.get(path, params={"index": index, "wait": wait}, timeout=30)
        result["elapsed"] = time.monotonic() - t0
        result["reply"] = r

    t = threading.Thread(target=run)
    t.start()
    return t, result


def test_blocking_query_woken_by_health_change_not_kv(node):
    c = node.consul()
    assert c.agent.service.register("web", service_id="web1", check=consul.Check.ttl("60s"))
    assert c.agent.service.register("other", service_id="o1", check=consul.Check.ttl("60s"))
    index, entries = c.health.service("web")
    # the service's check (the node's serfHealth passes)
    assert [x["Status"] for x in entries[0]["Checks"] if x["ServiceID"]] == ["critical"]

    t, res = _blocking(node, "/v1/health/service/web", index)
    time.sleep(0.3)
    # unrelated writes: a KV key and another service's check
    assert c.kv.put("some/key", "v")
    c.agent.check.ttl_pass("service:o1")
    time.sleep(0.4)
    assert t.is_alive(), "the blocking query woke for an unrelated change"
    # a health change of web wakes it
    c.agent.check.ttl_pass("service:web1")
    t.join(10)
    assert not t.is_alive()
    r = res["reply"]
    assert r.status_code == 200
    assert int(r.headers["X-Consul-Index"]) > int(index)
    assert [x["Status"] for x in r.json()[0]["Checks"] if x["ServiceID"]] == ["passing"]

    # python-consul's own blocking call returns at once when the index is old
    index2, entries = c.health.service("web", index=index, wait="5s")
    assert int(index2) > int(index)

    # same status again: no write, no wake-up
    t, res = _blocking(node, "/v1/health/service/web", index2, wait="1s")
    c.agent.check.ttl_pass("service:web1")
    t.join(10)
    assert res["elapsed"] >= 0.9
    assert res["reply"].headers["X-Consul-Index"] == index2


def test_blocking_catalog_services_and_nodes(node):
    c = node.consul()
    index, _ = c.catalog.services()
    t, res = _blocking(node, "/v1/catalog/services", index)
    time.sleep(0.2)
    assert t.is_alive()
    c.agent.service.register("new")
    t.join(10)
    assert "new" in res["reply"].json()

    index, _ = c.catalog.nodes()
    t, res = _blocking(node, "/v1/catalog/nodes", index)
    time.sleep(0.2)
    assert t.is_alive()
    c.catalog.register("ext", "10.0.0.1")
    t.join(10)
    assert len(res["reply"].json()) == 2

    index, _ = c.health.state("any")
    t, res = _blocking(node, "/v1/health/state/any", index)
    time.sleep(0.2)
    assert t.is_alive()
    c.agent.check.register("x", check=consul.Check.ttl("60s"))
    t.join(10)
    assert [x["CheckID"] for x in res["reply"].json()] == ["serfHealth", "x"]


def test_catalog_survives_restart(node):
    c = node.consul()
    assert c.agent.service.register("web", service_id="web1", port=80, tags=["t"],
                                    check=consul.Check.ttl("60s"))
    c.agent.check.ttl_pass("service:web1")
    node.restart()
    c = node.consul()
    assert c.agent.services()["web1"]["Tags"] == ["t"]
    assert c.agent.checks()["service:web1"]["Status"] == "passing"


def test_blocking_agent_services_and_checks(node):
    c = node.consul()
    r = node.get("/v1/agent/services")
    index = r.headers["X-Consul-Index"]
    t, res = _blocking(node, "/v1/agent/services", index)
    time.sleep(0.2)
    assert t.is_alive()
    c.agent.service.register("svc", check=consul.Check.ttl("60s"))
    t.join(10)
    assert "svc" in res["reply"].json()
    index = res["reply"].headers["X-Consul-Index"]
    t, res = _blocking(node, "/v1/agent/checks", index)
    time.sleep(0.2)
    assert t.is_alive()
    c.agent.check.ttl_pass("service:svc")
    t.join(10)
    assert res["reply"].json()["service:svc"]["Status"] == "passing"


def test_same_registration_again_changes_nothing(node):
    c = node.consul()
    check = consul.Check.ttl("60s")
    assert c.agent.service.register("web", service_id="web1", port=80, tags=["a"], check=check)
    c.agent.check.ttl_pass("service:web1")
    index, _ = c.health.service("web")
    assert c.agent.service.register("web", service_id="web1", port=80, tags=["a"], check=check)
    index2, entries = c.health.service("web")
    assert index2 == index
    # the check kept its status
    assert entries[0]["Checks"][0]["Status"] == "passing"
    assert c.agent.service.register("web", service_id="web1", port=81, tags=["a"], check=check)
    index3, _ = c.health.service("web")
    assert int(index3) > int(index)
