# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consul's user events: /v1/event/fire/:name and /v1/event/list (with
?name= and blocking queries whose index is the last event's ID folded to
64 bits), through python-consul's c.event."""

import base64
import threading
import time

import consul
import pytest
import requests


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1", dns=False)


def id_index(event_id):
    """Consul's uuidToUint64."""
    low = int(event_id[0:8] + event_id[9:13] + event_id[14:18], 16)
    high = int(event_id[19:23] + event_id[24:36], 16)
    return low ^ high


def test_fire_and_list(node):
    c = node.consul()
    index, events = c.event.list()
    assert events == [] and index == "1"
    fired = c.event.fire("deploy", "v1.2.3")
    assert fired["Name"] == "deploy"
    assert base64.b64decode(fired["Payload"]) == b"v1.2.3"
    assert fired["NodeFilter"] == fired["ServiceFilter"] == fired["TagFilter"] == ""
    assert fired["Version"] == 1
    second = c.event.fire("restart")
    assert second["Payload"] is None
    index, events = c.event.list()
    assert [e["Name"] for e in events] == ["deploy", "restart"]
    assert events[0]["Payload"] == b"v1.2.3"        # python-consul decodes it
    assert events[0]["ID"] == fired["ID"]
    assert events[1]["LTime"] > events[0]["LTime"]
    assert int(index) == id_index(second["ID"])
    index, events = c.event.list(name="deploy")
    assert [e["ID"] for e in events] == [fired["ID"]]
    assert int(index) == id_index(fired["ID"])
    assert c.event.list(name="nothing")[1] == []
    r = node.get("/v1/event/list?stale&name=deploy")
    assert r.status_code == 200 and len(r.json()) == 1
    assert r.headers["X-Consul-Effective-Consistency"] == "stale"
    assert node.get("/v1/event/list?stale&consistent").status_code == 400


def test_blocking_list_wakes_on_a_new_event(node):
    c = node.consul()
    c.event.fire("deploy", "1")
    index, events = c.event.list(name="deploy")
    got = {}

    def wait():
        started = time.monotonic()
        got["result"] = c.event.list(name="deploy", index=index, wait="20s")
        got["elapsed"] = time.monotonic() - started

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.5)
    # another name does not wake a list of "deploy"
    c.event.fire("other")
    time.sleep(0.3)
    assert t.is_alive()
    new = c.event.fire("deploy", "2")
    t.join(10)
    assert not t.is_alive()
    new_index, events = got["result"]
    assert [e["Payload"] for e in events] == [b"1", b"2"]
    assert int(new_index) == id_index(new["ID"]) != int(index)
    assert 0.7 < got["elapsed"] < 10


def test_blocking_list_times_out(node):
    c = node.consul()
    c.event.fire("deploy")
    index, _ = c.event.list()
    started = time.monotonic()
    again, events = c.event.list(index=index, wait="1s")
    assert 0.9 < time.monotonic() - started < 5
    assert again == index and len(events) == 1
    # a stale index answers at once
    started = time.monotonic()
    assert c.event.list(index="12345", wait="10s")[0] == index
    assert time.monotonic() - started < 2


def test_filters_decide_whether_this_agent_receives_it(node):
    c = node.consul()
    assert c.agent.service.register("web", service_id="web1", tags=["primary"])
    cases = [
        ({"node": "^node"}, True),
        ({"node": "other"}, False),
        ({"service": "web"}, True),
        ({"service": "web1"}, True),          # by id, as Consul's agents do
        ({"service": "db"}, False),
        ({"service": "web", "tag": "prim"}, True),
        ({"service": "web", "tag": "canary"}, False),
    ]
    for i, (filters, received) in enumerate(cases):
        fired = c.event.fire(f"e{i}", **filters)
        assert fired["NodeFilter"] == filters.get("node", "")
        assert fired["ServiceFilter"] == filters.get("service", "")
        assert fired["TagFilter"] == filters.get("tag", "")
        listed = [e["ID"] for e in c.event.list(name=f"e{i}")[1]]
        assert listed == ([fired["ID"]] if received else []), filters


@pytest.mark.parametrize("query,status,words", [
    ("tag=x", 400, "Cannot provide tag filter without service filter"),
    ("node=(", 400, "Invalid node filter"),
    ("service=web&tag=[", 400, "Invalid tag filter"),
])
def test_bad_fire_is_refused_and_records_nothing(node, query, status, words):
    r = node.put(f"/v1/event/fire/deploy?{query}", data=b"x")
    assert r.status_code == status, r.text
    assert words in r.json()["message"]
    assert node.consul().event.list()[1] == []


def test_payload_limit(node):
    c = node.consul()
    r = node.put("/v1/event/fire/big", data=b"x" * 600)
    assert r.status_code == 413, r.text
    assert "max_event_bytes" in r.json()["message"]
    assert c.event.fire("big", "x" * 400)["Name"] == "big"
    assert len(c.event.list(name="big")[1]) == 1


def test_the_last_256_are_kept(node):
    c = node.consul()
    ids = [c.event.fire("tick", str(i))["ID"] for i in range(260)]
    _, events = c.event.list()
    assert [e["ID"] for e in events] == ids[4:]
    assert events[0]["Payload"] == b"4"


def test_acl_by_event_name(node):
    r = requests.put(node.admin_url + "/v1/acl/policy", timeout=10, json={
        "Name": "deployer", "Rules": 'event_prefix "deploy" { policy = "write" }\n'
                                     'event "audit" { policy = "read" }\n'})
    assert r.status_code == 200, r.text
    r = requests.put(node.admin_url + "/v1/acl/token", timeout=10,
                     json={"Policies": [{"Name": "deployer"}]})
    assert r.status_code == 200, r.text
    secret = r.json()["SecretID"]
    mine = consul.Consul(host="127.0.0.1", port=int(node.http_addr.rsplit(":", 1)[1]),
                         token=secret)
    assert mine.event.fire("deploy-web", "go")["Name"] == "deploy-web"
    with pytest.raises(consul.ACLPermissionDenied):
        mine.event.fire("audit", "no")
    node.consul().event.fire("audit", "yes")
    node.consul().event.fire("secret", "hidden")
    # listed: what the token may read, and nothing else (python-consul's
    # event.list sends no token: plain requests)
    r = node.get("/v1/event/list", headers={"X-Consul-Token": secret})
    assert r.status_code == 200, r.text
    assert [e["Name"] for e in r.json()] == ["deploy-web", "audit"]
    assert r.headers["X-Consul-Results-Filtered-By-ACLs"] == "true"
    assert int(r.headers["X-Consul-Index"]) == id_index(r.json()[-1]["ID"])
    assert [e["Name"] for e in node.consul().event.list()[1]] == ["deploy-web", "audit", "secret"]


def test_a_client_leaving_drops_its_wait_and_the_cap_counts_waits(discovery_node):
    node = discovery_node("node1", dns=False,
                          extra_config="[security]\nmax_blocking_per_client = 2\n")
    c = node.consul()
    index, _ = c.event.list()
    # a client that gives up: its wait is dropped, the next event answers the others
    with pytest.raises(requests.exceptions.ReadTimeout):
        node.get(f"/v1/event/list?index={index}&wait=30s", timeout=0.5)
    held = []

    def wait():
        held.append(node.get(f"/v1/event/list?index={index}&wait=30s", timeout=20))

    threads = [threading.Thread(target=wait) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    # two held from this address: a third is one too many
    r = node.get(f"/v1/event/list?index={index}&wait=30s")
    assert r.status_code == 429, r.text
    assert "max_blocking_per_client" in r.json()["message"] and "Retry-After" in r.headers
    fired = c.event.fire("go")
    for t in threads:
        t.join(10)
    assert [r.status_code for r in held] == [200, 200]
    assert all(r.json()[-1]["ID"] == fired["ID"] for r in held)
    # the waits are released: blocking again is allowed
    assert c.event.list(index=id_index(fired["ID"]), wait="1s")[0] == str(id_index(fired["ID"]))


def test_events_of_another_datacenter(discovery_node):
    dc1 = discovery_node("alpha", dc="dc1", dns=False)
    dc2 = discovery_node("beta", dc="dc2", dns=False)
    assert dc1.admin_consul().agent.join(dc2.admin_addr, wan=True)
    r = dc1.put("/v1/event/fire/deploy?dc=dc2", data=b"there")
    assert r.status_code == 200, r.text
    fired = r.json()
    # received by dc2's agent, not by dc1's
    assert [e["ID"] for e in dc2.consul().event.list()[1]] == [fired["ID"]]
    assert dc1.consul().event.list()[1] == []
    r = dc1.get("/v1/event/list?dc=dc2&name=deploy")
    assert [e["Payload"] for e in r.json()] == [base64.b64encode(b"there").decode()]
    assert int(r.headers["X-Consul-Index"]) == id_index(fired["ID"])
    # a filter travels with the request
    r = dc1.get("/v1/catalog/nodes", params={"dc": "dc2", "filter": "Node == beta"})
    assert [n["Node"] for n in r.json()] == ["beta"]
    r = dc1.get("/v1/catalog/nodes", params={"dc": "dc2", "filter": "Node == alpha"})
    assert r.status_code == 200 and r.json() == []
