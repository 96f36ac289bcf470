# SPDX-License-Identifier: LGPL-2.1-or-later
"""The agent as a Consul server in dev mode answers: /v1/agent/self and
members, the node's serfHealth check, status, coordinates, the Raft
configuration, check intervals below Consul's minimum, and registrations
for a datacenter there is no path to."""

import http.server
import threading
import time

import consul
import pytest
import requests


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1", dns=False)


MEMBER_FIELDS = {"Name", "Addr", "Port", "Tags", "Status", "ProtocolMin", "ProtocolMax",
                 "ProtocolCur", "DelegateMin", "DelegateMax", "DelegateCur"}


def test_agent_self_and_members(node):
    c = node.consul()
    me = c.agent.self()
    config = me["Config"]
    assert config["Datacenter"] == "dc1"
    assert config["NodeName"] == "node1"
    assert config["Server"] is True
    assert config["NodeID"] and config["Version"] and config["Revision"]
    assert me["DebugConfig"]["NodeName"] == "node1"
    assert me["DebugConfig"]["ServerMode"] is True
    assert me["Meta"] == {"consul-network-segment": ""}

    leader = c.status.leader()
    assert leader.endswith(":8300")
    assert c.status.peers() == [leader]
    stats = me["Stats"]
    assert stats["consul"]["leader"] == "true"
    assert stats["consul"]["leader_addr"] == leader
    assert stats["consul"]["server"] == "true"
    assert stats["raft"]["state"] == "Leader"
    # every Stats value is a string, as Consul's
    assert all(isinstance(v, str) for group in stats.values() for v in group.values())

    assert me["Coord"] == {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-5}

    members = c.agent.members()
    assert len(members) == 1
    member = members[0]
    assert set(member) == MEMBER_FIELDS
    assert member == me["Member"]
    assert member["Name"] == "node1" and member["Status"] == 1 and member["Port"] == 8301
    assert member["Tags"]["role"] == "consul" and member["Tags"]["dc"] == "dc1"
    assert member["Tags"]["id"] == config["NodeID"]
    assert member["Tags"]["port"] == "8300"
    assert (member["ProtocolMin"], member["ProtocolMax"], member["ProtocolCur"]) == (1, 5, 2)
    assert (member["DelegateMin"], member["DelegateMax"], member["DelegateCur"]) == (2, 5, 4)
    wan = c.agent.members(wan=True)
    assert [m["Name"] for m in wan] == ["node1.dc1"] and wan[0]["Port"] == 8302


def test_serf_health_check(node):
    c = node.consul()
    _, checks = c.health.state("any")
    serf = [x for x in checks if x["CheckID"] == "serfHealth"]
    assert len(serf) == 1
    assert serf[0]["Node"] == "node1"
    assert serf[0]["Name"] == "Serf Health Status"
    assert serf[0]["Status"] == "passing"
    assert serf[0]["ServiceID"] == ""
    _, passing = c.health.state("passing")
    assert "serfHealth" in [x["CheckID"] for x in passing]
    _, checks = c.health.node("node1")
    assert [x["CheckID"] for x in checks] == ["serfHealth"]
    # not one of the agent's own checks
    assert c.agent.checks() == {}
    for path in ("/v1/agent/check/fail/serfHealth", "/v1/agent/check/deregister/serfHealth"):
        r = node.put(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["message"] == "Unknown check ID “serfHealth”"
    _, checks = c.health.node("node1")
    assert [(x["CheckID"], x["Status"]) for x in checks] == [("serfHealth", "passing")]

    # a service on the node carries the node's check in its health
    assert c.agent.service.register("web", service_id="web1", port=80,
                                    check=consul.Check.ttl("60s"))
    c.agent.check.ttl_pass("service:web1")
    _, entries = c.health.service("web")
    assert sorted(x["CheckID"] for x in entries[0]["Checks"]) == ["serfHealth", "service:web1"]
    assert list(c.agent.checks()) == ["service:web1"]

    # the check stays one row across restarts
    node.restart()
    _, checks = node.consul().health.node("node1")
    assert sorted(x["CheckID"] for x in checks) == ["serfHealth", "service:web1"]


def test_coordinates_and_raft(node):
    c = node.consul()
    coord = {"Vec": [0.0] * 8, "Error": 1.5, "Adjustment": 0.0, "Height": 1e-5}
    dcs = c.coordinate.datacenters()
    assert dcs == [{"Datacenter": "dc1", "AreaID": "wan",
                    "Coordinates": [{"Node": "node1.dc1", "Coord": coord}]}]
    _, nodes = c.coordinate.nodes()
    assert len(nodes) == 1
    assert nodes[0]["Node"] == "node1" and nodes[0]["Segment"] == ""
    assert nodes[0]["Coord"] == coord
    r = node.get("/v1/coordinate/node/node1")
    assert r.status_code == 200 and r.json()[0]["Coord"] == coord
    assert node.get("/v1/coordinate/node/ghost").status_code == 404

    raft = c.operator.raft_config()
    me = c.agent.self()["Config"]
    assert raft["Servers"] == [{"ID": me["NodeID"], "Node": "node1",
                                "Address": c.status.leader(), "Leader": True,
                                "ProtocolVersion": "3", "Voter": True}]
    assert raft["Index"] > 0


class _Counter(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.hits.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def target():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    srv.hits = []
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_interval_below_minimum_is_raised(node, target, wait_until):
    c = node.consul()
    url = f"http://127.0.0.1:{target.server_address[1]}/"
    # accepted, not refused: run every second, Consul's minimum
    assert c.agent.check.register("fast", check_id="fast",
                                  check={"HTTP": url, "Interval": "50ms"})
    wait_until(lambda: len(target.hits) >= 3, 10, "three probes")
    gaps = [b - a for a, b in zip(target.hits, target.hits[1:])]
    assert min(gaps) > 0.8, gaps
    assert c.agent.checks()["fast"]["Status"] == "passing"
    # with a warning in the log
    assert "below the minimum of 1s" in node.stdout() + node.stderr()

    # no interval at all is still refused
    r = node.put("/v1/agent/check/register", json={"Name": "none", "HTTP": url, "Interval": "0s"})
    assert r.status_code == 400
    assert "Interval" in r.text
    assert "none" not in c.agent.checks()


def test_register_into_unknown_datacenter(node):
    c = node.consul()
    body = {"Node": "ext1", "Address": "10.0.0.1",
            "Service": {"Service": "db", "Port": 5432}}
    r = node.put("/v1/catalog/register", params={"dc": "dc9"}, json=body)
    assert r.status_code == 500
    assert r.json()["message"] == "No path to datacenter"
    r = node.put("/v1/catalog/register", json=dict(body, Datacenter="dc9"))
    assert r.status_code == 500
    assert r.json()["message"] == "No path to datacenter"
    _, nodes = c.catalog.nodes()
    assert [n["Node"] for n in nodes] == ["node1"]
    _, services = c.catalog.services()
    assert "db" not in services
    # its own datacenter, named, is fine
    r = node.put("/v1/catalog/register", json=dict(body, Datacenter="dc1"))
    assert r.status_code == 200
    _, services = c.catalog.services()
    assert "db" in services
