# SPDX-License-Identifier: LGPL-2.1-or-later
"""Prepared queries (/v1/query) with python-consul, requests and dig:
definitions, execution with tag and health filters, templates, ACLs, DNS
and failover to another datacenter."""

import subprocess

import consul
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
import requests


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1")


def register(c, sid, port, tags, status):
    assert c.agent.service.register("web", service_id=sid, port=port, tags=tags,
                                    check=consul.Check.ttl("600s"))
    {"passing": c.agent.check.ttl_pass, "warning": c.agent.check.ttl_warn,
     "critical": c.agent.check.ttl_fail}[status](f"service:{sid}")


@pytest.fixture
def web(node):
    c = node.consul()
    register(c, "web1", 8001, ["prod"], "passing")
    register(c, "web2", 8002, ["prod", "canary"], "passing")
    register(c, "web3", 8003, ["prod"], "warning")
    register(c, "web4", 8004, ["prod"], "critical")
    register(c, "web5", 8005, ["dev"], "passing")
    return c


def ids(result):
    return sorted(n["Service"]["ID"] for n in result["Nodes"])


def test_create_read_execute_update_delete(node, web):
    c = web
    created = c.query.create("web", name="prod-web", tags=["prod", "!canary"], ttl="7s")
    qid = created["ID"]
    assert len(qid) == 36

    listed = c.query.list()
    assert [q["ID"] for q in listed] == [qid]
    (q,) = c.query.get(qid)
    assert q["Name"] == "prod-web"
    assert q["Service"]["Service"] == "web"
    assert q["Service"]["Tags"] == ["prod", "!canary"]
    assert q["Service"]["OnlyPassing"] is False
    assert q["Service"]["Failover"] == {"NearestN": 0, "Datacenters": []}
    assert q["DNS"] == {"TTL": "7s"}
    assert q["CreateIndex"] > 0 and q["ModifyIndex"] == q["CreateIndex"]

    # by name and by ID: the prod instances not critical, no canary
    for key in ("prod-web", qid):
        result = c.query.execute(key)
        assert result["Service"] == "web"
        assert result["Datacenter"] == "dc1"
        assert result["Failovers"] == 0
        assert result["DNS"] == {"TTL": "7s"}
        assert ids(result) == ["web1", "web3"]
    entry = c.query.execute("prod-web")["Nodes"][0]
    assert set(entry) == {"Node", "Service", "Checks"}
    assert entry["Node"]["Node"] == "node1"
    assert len(c.query.execute("prod-web", limit=1)["Nodes"]) == 1

    # replaced as a whole: only passing now
    r = node.put(f"/v1/query/{qid}", json={
        "Name": "prod-web", "Service": {"Service": "web", "Tags": ["prod"], "OnlyPassing": True}})
    assert r.status_code == 200, r.text
    assert ids(c.query.execute("prod-web")) == ["web1", "web2"]
    (q,) = c.query.get(qid)
    assert q["ModifyIndex"] > q["CreateIndex"]
    assert q["DNS"] == {"TTL": ""}

    assert c.query.delete(qid)
    assert c.query.list() == []
    r = node.get(f"/v1/query/{qid}")
    assert r.status_code == 404
    assert node.get("/v1/query/prod-web/execute").status_code == 404


def test_bad_definitions_change_nothing(node):
    cases = [
        ({"Name": "a"}, 400, "Service"),
        ({"Name": "a", "Service": {"Service": ""}}, 400, "Service"),
        ({"Name": "a", "Service": {"Service": "web", "Tags": "prod"}}, 400, "Tags"),
        ({"Name": "a", "Service": {"Service": "web", "Failover": {"NearestN": -1}}}, 400,
         "NearestN"),
        ({"Name": "a", "Service": {"Service": "web"}, "DNS": {"TTL": "soon"}}, 400, "TTL"),
        ({"Name": "a", "Service": {"Service": "web"}, "Template": {"Type": "other"}}, 400,
         "Template"),
        ({"Name": "a", "Service": {"Service": "web"},
          "Session": "9d2d5e0c-2a2a-4b1e-8f4c-000000000000"}, 400, "session"),
        ({"Name": "a", "Service": {"Service": "web", "Connect": {"Enabled": True}}}, 501,
         "Connect"),
    ]
    for body, status, word in cases:
        r = node.request("POST", "/v1/query", json=body)
        assert r.status_code == status, (body, r.text)
        assert word in r.json()["message"], (body, r.text)
    assert node.get("/v1/query").json() == []

    r = node.request("POST", "/v1/query", json={"Name": "a", "Service": {"Service": "web"}})
    assert r.status_code == 200
    r = node.request("POST", "/v1/query", json={"Name": "A", "Service": {"Service": "db"}})
    assert r.status_code == 400 and "aliases an existing query name" in r.json()["message"]
    assert len(node.get("/v1/query").json()) == 1
    assert node.get("/v1/query/nope/execute").status_code == 404
    assert node.get("/v1/query/00000000-0000-0000-0000-000000000000").status_code == 404


def test_template(node, web):
    c = web
    r = node.request("POST", "/v1/query", json={
        "Name": "geo-", "Template": {"Type": "name_prefix_match"},
        "Service": {"Service": "${name.suffix}", "Tags": ["prod"]}})
    assert r.status_code == 200, r.text
    result = c.query.execute("geo-web")
    assert result["Service"] == "web"
    assert ids(result) == ["web1", "web2", "web3"]
    assert c.query.execute("geo-nothing")["Nodes"] == []
    # a longer prefix wins; an exact name wins over any template
    r = node.request("POST", "/v1/query", json={
        "Name": "geo-w", "Template": {"Type": "name_prefix_match",
                                      "Regexp": "^geo-w(.*)$"},
        "Service": {"Service": "w${match(1)}", "Tags": ["dev"]}})
    assert r.status_code == 200, r.text
    assert ids(c.query.execute("geo-web")) == ["web5"]
    explained = node.get("/v1/query/geo-web/explain").json()["Query"]
    assert explained["Service"]["Service"] == "web"
    assert explained["Service"]["Tags"] == ["dev"]


def dig(node, *args):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(node.dns_port), "+time=3", "+tries=1",
                          "+noall", "+answer", *args], capture_output=True, text=True,
                         timeout=20)
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def test_dns(node, web):
    c = web
    c.query.create("web", name="prod-web", tags=["prod", "!canary"], ttl="7s")
    rows = dig(node, "prod-web.query.consul", "SRV")
    assert sorted(int(r[6]) for r in rows) == [8001, 8003]
    assert all(r[1] == "7" for r in rows), rows
    rows = dig(node, "prod-web.query.consul", "A")
    assert [r[4] for r in rows] == ["127.0.0.1", "127.0.0.1"]
    rows = dig(node, "prod-web.query.dc1.consul", "SRV")
    assert len(rows) == 2

    # no TTL in the query: the configured one (0)
    c.query.create("web", name="dev-web", tags=["dev"])
    rows = dig(node, "dev-web.query.consul", "SRV")
    assert [(r[1], r[6]) for r in rows] == [("0", "8005")]

    q = dns.message.make_query("nope.query.consul", "A")
    resp = dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=5)
    assert resp.rcode() == dns.rcode.NXDOMAIN


def make_token(node, name, rules):
    """A token with @rules, made through the ACL API (admin listener)."""
    r = requests.put(f"{node.admin_url}/v1/acl/policy", json={"Name": name, "Rules": rules})
    assert r.status_code == 200, r.text
    r = requests.put(f"{node.admin_url}/v1/acl/token", json={"Policies": [{"Name": name}]})
    assert r.status_code == 200, r.text
    return r.json()["SecretID"]


def test_acls(node, web):
    admin = node.consul()
    team = make_token(node, "team", 'query_prefix "team-" { policy = "write" }\n'
                                    'service "web" { policy = "read" }\n'
                                    'node_prefix "" { policy = "read" }\n')
    other = make_token(node, "other", 'query_prefix "" { policy = "read" }\n'
                                      'service "db" { policy = "read" }\n')
    nothing = make_token(node, "nothing", 'query_prefix "" { policy = "read" }\n')
    t = node.consul(token=team)

    def create(token, name, keep_token=False):
        # python-consul puts a token in the body only: the header says who asks
        body = {"Name": name, "Service": {"Service": "web", "Tags": ["prod"]}}
        if keep_token:
            body["Token"] = token
        return requests.post(f"{node.url}/v1/query", headers={"X-Consul-Token": token},
                             json=body)

    r = create(team, "team-web")
    assert r.status_code == 200, r.text
    created = r.json()
    r = create(team, "ops-web")
    assert r.status_code == 403
    admin.query.create("web", name="ops-web", token="")
    assert [q["Name"] for q in t.query.list()] == ["team-web"]
    r = requests.get(f"{node.url}/v1/query", headers={"X-Consul-Token": team})
    assert r.headers.get("X-Consul-Results-Filtered-By-ACLs") == "true"

    # executing: the results the caller may read
    assert ids(t.query.execute("team-web")) == ["web1", "web2", "web3"]
    assert node.consul(token=other).query.execute("team-web")["Nodes"] == []
    # no service at all to read: refused, as the route needs service read
    with pytest.raises(consul.ACLPermissionDenied):
        node.consul(token=nothing).query.execute("team-web")
    with pytest.raises(consul.ACLPermissionDenied):
        node.consul(token=other).query.delete(created["ID"])

    # a query that keeps a Token runs with it, whoever executes it
    r = create(team, "team-kept", keep_token=True)
    assert r.status_code == 200, r.text
    kept = r.json()["ID"]
    assert ids(node.consul(token=other).query.execute("team-kept")) == ["web1", "web2", "web3"]
    # the stored token is hidden from who may not write ACLs
    (q,) = t.query.get(kept)
    assert q["Token"] == "<hidden>"
    (q,) = admin.query.get(kept)
    assert q["Token"] == team
    assert len(admin.query.list()) == 3


def test_failover(discovery_node):
    dc1 = discovery_node("alpha", dc="dc1")
    dc2 = discovery_node("beta", dc="dc2")
    assert dc1.admin_consul().agent.join(dc2.admin_addr, wan=True)
    c1, c2 = dc1.consul(), dc2.consul()
    assert c2.agent.service.register("db", service_id="db2", address="10.2.0.5", port=5432,
                                     check=consul.Check.ttl("600s"))
    c2.agent.check.ttl_pass("service:db2")

    r = dc1.request("POST", "/v1/query", json={
        "Name": "db", "Service": {"Service": "db",
                                  "Failover": {"Datacenters": ["dc9", "dc2"]}}})
    assert r.status_code == 200, r.text
    result = c1.query.execute("db")
    assert result["Datacenter"] == "dc2"
    assert result["Failovers"] == 1
    assert [n["Service"]["ID"] for n in result["Nodes"]] == ["db2"]
    assert result["Nodes"][0]["Node"]["Node"] == "beta"
    rows = dig(dc1, "db.query.consul", "SRV")
    assert [(r[6], r[7]) for r in rows] == [("5432", "0a020005.addr.dc2.consul.")]

    # a query of dc2, asked of dc1's DNS with dc2's label: executed there
    r = dc2.request("POST", "/v1/query", json={"Name": "db-two", "Service": {"Service": "db"},
                                                "DNS": {"TTL": "3s"}})
    assert r.status_code == 200, r.text
    rows = dig(dc1, "db-two.query.dc2.consul", "SRV")
    assert [(r[1], r[6]) for r in rows] == [("3", "5432")]
    q = dns.message.make_query("db-two.query.consul", "A")
    assert dns.query.udp(q, "127.0.0.1", port=dc1.dns_port, timeout=5).rcode() == dns.rcode.NXDOMAIN
    q = dns.message.make_query("nope.query.dc2.consul", "A")
    assert dns.query.udp(q, "127.0.0.1", port=dc1.dns_port, timeout=5).rcode() == dns.rcode.NXDOMAIN

    # healthy here: no failover
    assert c1.agent.service.register("db", service_id="db1", port=5433,
                                     check=consul.Check.ttl("600s"))
    c1.agent.check.ttl_pass("service:db1")
    result = c1.query.execute("db")
    assert (result["Datacenter"], result["Failovers"]) == ("dc1", 0)
    assert [n["Service"]["ID"] for n in result["Nodes"]] == ["db1"]

    # NearestN: the linked datacenters
    c1.agent.check.ttl_fail("service:db1")
    r = dc1.request("POST", "/v1/query", json={
        "Name": "db-near", "Service": {"Service": "db", "Failover": {"NearestN": 1}}})
    assert r.status_code == 200, r.text
    result = c1.query.execute("db-near")
    assert (result["Datacenter"], result["Failovers"]) == ("dc2", 1)


def test_query_ends_with_its_session(node, web):
    c = web
    session = c.session.create(name="owner")
    r = node.request("POST", "/v1/query", json={
        "Name": "owned", "Session": session, "Service": {"Service": "web"}})
    assert r.status_code == 200, r.text
    qid = r.json()["ID"]
    (q,) = c.query.get(qid)
    assert q["Session"] == session
    assert ids(c.query.execute("owned")) == ["web1", "web2", "web3", "web5"]
    assert c.session.destroy(session)
    assert c.query.list() == []
    assert node.get(f"/v1/query/{qid}").status_code == 404
    assert node.get("/v1/query/owned/execute").status_code == 404
    # its name is free again
    r = node.request("POST", "/v1/query", json={"Name": "owned", "Service": {"Service": "web"}})
    assert r.status_code == 200, r.text


def test_blocking_list(node):
    import threading
    import time

    c = node.consul()
    r = node.get("/v1/query")
    index = int(r.headers["X-Consul-Index"])
    res = {}

    def block():
        res["reply"] = node.get(f"/v1/query?index={index}&wait=10s", timeout=30)

    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    # an unrelated write does not wake it
    assert c.kv.put("some/key", "v")
    time.sleep(0.3)
    assert t.is_alive()
    start = time.monotonic()
    c.query.create("web", name="woken")
    t.join(10)
    assert not t.is_alive() and time.monotonic() - start < 5
    reply = res["reply"]
    assert [q["Name"] for q in reply.json()] == ["woken"]
    assert int(reply.headers["X-Consul-Index"]) > index
