# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consul's ?filter= expressions on the catalog, health and agent lists,
?near=_agent, and the consistency modes (?stale, ?consistent, ?cached).

python-consul 0.7 has no `filter` argument: the filtered reads go through
requests, the setup through python-consul."""

import threading
import time

import consul
import pytest


@pytest.fixture
def node(discovery_node):
    n = discovery_node("node1", dns=False)
    # python-consul 0.7 sends no Meta: plain requests for the setup
    # this agent: web (primary) and db
    for body in ({"Name": "web", "ID": "web1", "Port": 8080, "Tags": ["primary", "v1"],
                  "Meta": {"env": "prod"}},
                 {"Name": "db", "ID": "db1", "Port": 5432, "Tags": ["v1"]}):
        r = n.put("/v1/agent/service/register", json=body)
        assert r.status_code == 200, r.text
    # another node, with a failing check on its web and a passing one of its own
    r = n.put("/v1/catalog/register", json={
        "Node": "ext1", "Address": "10.0.0.9", "NodeMeta": {"rack": "r2"},
        "Service": {"Service": "web", "ID": "web9", "Port": 9090, "Tags": ["secondary"],
                    "Meta": {"env": "dev"}},
        "Checks": [{"CheckID": "web9-alive", "Name": "alive", "Status": "critical",
                    "ServiceID": "web9"},
                   {"CheckID": "ext1-ping", "Name": "ping", "Status": "passing",
                    "ServiceID": ""}]})
    assert r.status_code == 200, r.text
    return n


def get(node, path, expression, **params):
    return node.get(path, params={"filter": expression, **params})


def names(reply, field="Node"):
    assert reply.status_code == 200, reply.text
    return sorted(item[field] for item in reply.json())


@pytest.mark.parametrize("expression,expected", [
    ("ServiceTags contains primary", ["node1"]),
    ('"secondary" in ServiceTags', ["ext1"]),
    ("primary not in ServiceTags", ["ext1"]),
    ("ServiceTags not contains `secondary`", ["node1"]),
    ("ServiceMeta.env == prod", ["node1"]),
    ('ServiceMeta["env"] != "prod"', ["ext1"]),
    ("ServicePort == 9090", ["ext1"]),
    ('Node matches "^ext[0-9]$"', ["ext1"]),
    ("Node not matches `^ext`", ["node1"]),
    ("NodeMeta.rack is empty", ["node1"]),
    ("NodeMeta is not empty", ["ext1"]),
    ("ServiceTags is empty", []),
    ("ServiceTags contains primary or ServicePort == 9090", ["ext1", "node1"]),
    ("not ServiceTags contains primary and ServicePort == 9090", ["ext1"]),
    ("(ServiceMeta.env == prod or ServiceMeta.env == dev) and not Node == ext1", ["node1"]),
    ("ServiceEnableTagOverride == false", ["ext1", "node1"]),
])
def test_catalog_service(node, expression, expected):
    assert names(get(node, "/v1/catalog/service/web", expression)) == expected


def test_catalog_nodes_node_and_services(node):
    assert names(get(node, "/v1/catalog/nodes", "Meta.rack == r2")) == ["ext1"]
    assert names(get(node, "/v1/catalog/nodes", 'Address == "10.0.0.9" or Node == node1')) \
        == ["ext1", "node1"]
    # the node's services are filtered, the node itself is not
    r = get(node, "/v1/catalog/node/node1", "Tags contains primary")
    assert r.status_code == 200, r.text
    assert r.json()["Node"]["Node"] == "node1"
    assert list(r.json()["Services"]) == ["web1"]
    r = get(node, "/v1/catalog/node/node1", "Port > 1")
    assert r.status_code == 400
    # /v1/catalog/services filters the instances, then lists what is left
    r = get(node, "/v1/catalog/services", "ServiceTags contains v1")
    assert r.status_code == 200, r.text
    assert r.json() == {"db": ["v1"], "web": ["primary", "v1"]}
    r = get(node, "/v1/catalog/services", "ServiceMeta.env == dev")
    assert r.json() == {"web": ["secondary"]}


def test_health_endpoints(node):
    r = get(node, "/v1/health/service/web", "Checks.Status == critical")
    assert [e["Node"]["Node"] for e in r.json()] == ["ext1"]
    # through the list of checks one is enough, for != too: ext1's ping passes
    r = get(node, "/v1/health/service/web", "Checks.Status != critical")
    assert "ext1" in [e["Node"]["Node"] for e in r.json()]
    r = get(node, "/v1/health/service/web", "not (Checks.Status == critical)")
    assert "ext1" not in [e["Node"]["Node"] for e in r.json()]
    r = get(node, "/v1/health/service/web", "Service.Tags contains primary and Node.Node == node1")
    assert [e["Service"]["ID"] for e in r.json()] == ["web1"]
    r = get(node, "/v1/health/service/web", "Node.Meta.rack == r2")
    assert [e["Service"]["ID"] for e in r.json()] == ["web9"]
    assert get(node, "/v1/health/service/web", "Service.Port == 1").json() == []

    r = get(node, "/v1/health/checks/web", "Status == critical")
    assert [c["CheckID"] for c in r.json()] == ["web9-alive"]
    r = get(node, "/v1/health/state/any", 'Node == ext1 and Name == "alive"')
    assert [c["CheckID"] for c in r.json()] == ["web9-alive"]
    r = get(node, "/v1/health/state/critical", "ServiceName != web")
    assert r.status_code == 200 and r.json() == []
    r = get(node, "/v1/health/node/ext1", "ServiceID is empty")
    assert [c["CheckID"] for c in r.json()] == ["ext1-ping"]
    r = get(node, "/v1/health/node/ext1", "ServiceID is not empty")
    assert [c["CheckID"] for c in r.json()] == ["web9-alive"]


def test_agent_services_and_checks(node):
    c = node.consul()
    assert c.agent.check.register("db-ttl", check=consul.Check.ttl("30s"), service_id="db1")
    c.agent.check.ttl_pass("db-ttl")
    r = get(node, "/v1/agent/services", "Service == web and Port == 8080")
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["web1"]
    r = get(node, "/v1/agent/services", "v1 in Tags")
    assert sorted(r.json()) == ["db1", "web1"]
    r = get(node, "/v1/agent/services", "Meta.env is empty")
    assert list(r.json()) == ["db1"]
    r = get(node, "/v1/agent/checks", "ServiceID == db1 and Status == passing")
    assert list(r.json()) == ["db-ttl"]
    r = get(node, "/v1/agent/checks", "Status == critical")
    assert r.json() == {}
    # without ?filter (or an empty one), everything
    assert sorted(c.agent.services()) == ["db1", "web1"]
    assert sorted(get(node, "/v1/agent/services", "").json()) == ["db1", "web1"]


@pytest.mark.parametrize("path", [
    "/v1/catalog/nodes", "/v1/catalog/services", "/v1/catalog/service/web",
    "/v1/catalog/node/node1", "/v1/health/service/web", "/v1/health/checks/web",
    "/v1/health/state/any", "/v1/health/node/node1", "/v1/agent/services", "/v1/agent/checks",
])
def test_bad_expression_is_400_with_position(node, path):
    r = get(node, path, "Node == ")
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert "1:9" in message and "expected a value" in message, message


@pytest.mark.parametrize("expression,words", [
    ("ServiceTags contains", "1:13"),
    ("(Node == ext1", "expected “)”"),
    ("Node == ext1 or", "expected a selector"),
    ("Node = ext1", "expected an operator"),
    ('Node matches "("', "invalid regular expression"),
    ('Node == "ext1', "unterminated string"),
    ("Node == ext1 Node", "expected “and”, “or”"),
    # well-formed, but not applicable to what the selector finds
    ("ServicePort contains 9", "does not apply to ServicePort, which is a number"),
    ("ServicePort == nine", "cannot be compared with ServicePort"),
    ("ServiceTags == primary", "does not apply to ServiceTags, which is a list"),
])
def test_bad_expressions(node, expression, words):
    r = get(node, "/v1/catalog/service/web", expression)
    assert r.status_code == 400, r.text
    assert words in r.json()["message"], r.json()


def test_filter_in_a_blocking_query(node):
    c = node.consul()
    r = get(node, "/v1/health/service/web", "Service.Tags contains canary")
    assert r.status_code == 200 and r.json() == []
    index = r.headers["X-Consul-Index"]
    got = {}

    def wait():
        got["reply"] = get(node, "/v1/health/service/web", "Service.Tags contains canary",
                           index=index, wait="10s")

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.3)
    assert c.agent.service.register("web", service_id="web2", port=8081, tags=["canary"])
    t.join(15)
    reply = got["reply"]
    assert reply.status_code == 200
    assert [e["Service"]["ID"] for e in reply.json()] == ["web2"]
    assert int(reply.headers["X-Consul-Index"]) > int(index)


def test_near_agent_puts_this_node_first(node):
    c = node.consul()
    # ext2 sorts before node1: without ?near it comes first
    assert c.catalog.register("ext2", "10.0.0.10", service={"Service": "web", "ID": "web10"})
    plain = [row["Node"] for row in node.get("/v1/catalog/service/web").json()]
    assert plain == ["ext1", "ext2", "node1"]
    near = [row["Node"] for row in node.get("/v1/catalog/service/web?near=_agent").json()]
    assert near == ["node1", "ext1", "ext2"]
    near = [e["Node"]["Node"] for e in node.get("/v1/health/service/web?near=_agent").json()]
    assert near == ["node1", "ext1", "ext2"]
    near = [n["Node"] for n in node.get("/v1/catalog/nodes?near=_agent").json()]
    assert near[0] == "node1" and sorted(near[1:]) == near[1:]
    # a node's name works too; with a filter, the filter first
    near = [row["Node"] for row in
            get(node, "/v1/catalog/service/web", "Node != ext1", near="ext2").json()]
    assert near == ["ext2", "node1"]


def test_consistency_modes(node):
    c = node.consul()
    for mode in ("stale", "consistent"):
        index, services = c.catalog.service("web", consistency=mode)
        assert sorted(s["ServiceID"] for s in services) == ["web1", "web9"]
        r = node.get(f"/v1/catalog/service/web?{mode}")
        assert r.status_code == 200
        assert r.headers["X-Consul-Effective-Consistency"] == mode
        assert r.headers["X-Consul-KnownLeader"] == "true"
        assert r.headers["X-Consul-LastContact"] == "0"
    r = node.get("/v1/health/service/web")
    assert r.headers["X-Consul-Effective-Consistency"] == "leader"
    assert "X-Cache" not in r.headers
    r = node.get("/v1/health/service/web?cached")
    assert r.status_code == 200 and len(r.json()) == 2
    assert r.headers["X-Cache"] == "MISS" and r.headers["Age"] == "0"
    r = node.get("/v1/kv/nothing?stale")
    assert r.status_code == 404 and r.headers["X-Consul-Effective-Consistency"] == "stale"
    r = node.get("/v1/catalog/nodes?stale&consistent")
    assert r.status_code == 400
    assert "Cannot specify ?stale with ?consistent" in r.json()["message"]
    r = node.get("/v1/catalog/nodes?cached=perhaps")
    assert r.status_code == 400


@pytest.mark.parametrize("path,expression,selector", [
    ("/v1/catalog/nodes", "Nodee == node1", "Nodee"),
    ("/v1/catalog/nodes", "CreateIndex == 1", "CreateIndex"),
    ("/v1/catalog/service/web", "Service == web", "Service"),      # a row's is ServiceName
    ("/v1/catalog/services", "Tags contains primary", "Tags"),     # instances: ServiceTags
    ("/v1/catalog/node/node1", "ServiceName == web", "ServiceName"),
    ("/v1/health/service/web", "Node.Nmae == node1", "Node.Nmae"),
    ("/v1/health/service/web", "Status == passing", "Status"),     # that is Checks.Status
    ("/v1/health/checks/web", "Service == web", "Service"),
    ("/v1/agent/services", "ServicePort == 8080", "ServicePort"),
    ("/v1/agent/checks", "Port == 1", "Port"),
])
def test_unknown_selector_is_400(node, path, expression, selector):
    """Each list takes the selectors of its items, as Consul documents
    them per endpoint: another is refused, not matched against nothing."""
    r = get(node, path, expression)
    assert r.status_code == 400, r.text
    assert f"Selector “{selector}” is not valid" in r.json()["message"], r.json()
    assert "1:1 (0)" in r.json()["message"]


def test_empty_lists_still_check_selectors(node):
    # nothing to evaluate, the expression is still checked
    r = get(node, "/v1/health/service/nothing", "Service.Tagz contains x")
    assert r.status_code == 400 and "Service.Tagz" in r.json()["message"]
    r = get(node, "/v1/health/service/nothing", "Service.Tags contains x")
    assert r.status_code == 200 and r.json() == []
