# SPDX-License-Identifier: LGPL-2.1-or-later
"""Automatic registration of scheduler tasks as catalog services, seen with
python-consul and dnspython."""

import importlib.util
import os
from pathlib import Path

import pytest

consul = pytest.importorskip("consul", reason="python3-consul is not installed")
dns_message = pytest.importorskip("dns.message", reason="python3-dnspython is not installed")
import dns.flags  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

# The scheduler tests' fixtures (a berthd with the scheduler and runtime
# plugins), loaded from their file as the scheduler's conftest does with
# the runtime's.
_SCHED_CONFTEST = Path(__file__).resolve().parent.parent / "scheduler" / "conftest.py"
_spec = importlib.util.spec_from_file_location("berth_scheduler_fixtures", _SCHED_CONFTEST)
_sched = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sched)
sched_factory = _sched.sched_factory

# GET /ok answers 200 while the file site/ok exists in the task's sandbox.
SERVER = ("mkdir -p site && touch site/ok && cd site && "
          "exec /usr/bin/python3 -m http.server $PORT0 --bind 127.0.0.1")


@pytest.fixture
def node(sched_factory, berth_env):
    dns_port = berth_env.free_port()
    s = sched_factory(extra_args=["--dns-addr", f"127.0.0.1:{dns_port}"])
    s.dns_port = dns_port
    s.consul = s.berthd.consul()
    return s


def app_body(app_id, instances=2, labels=None, ports=None, check=None):
    body = {"id": app_id, "cmd": SERVER, "cpus": 0.01, "mem": 16, "instances": instances,
            "backoffSeconds": 0.2,
            "portDefinitions": ports if ports is not None else [{"port": 0}]}
    if labels:
        body["labels"] = labels
    if check:
        body["healthChecks"] = [check]
    return body


def ask(node, name, rdtype="A"):
    q = dns_message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    return dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=3,
                         ignore_trailing=True, raise_on_truncation=False)


def srv_ports(node, name):
    resp = ask(node, f"{name}.service.consul.", "SRV")
    if resp.rcode() != dns.rcode.NOERROR:
        return []
    return sorted(r.port for rrset in resp.answer if rrset.rdtype == dns.rdatatype.SRV
                  for r in rrset)


def a_records(node, name):
    resp = ask(node, f"{name}.service.consul.")
    if resp.rcode() != dns.rcode.NOERROR:
        return []
    return sorted(r.address for rrset in resp.answer if rrset.rdtype == dns.rdatatype.A
                  for r in rrset)


def catalog(node, name):
    _, rows = node.consul.catalog.service(name)
    return rows


def passing_ports(node, name):
    _, rows = node.consul.health.service(name, passing=True)
    return sorted(r["Service"]["Port"] for r in rows)


def host_ports(tasks):
    return sorted(t["ports"][0] for t in tasks)


def test_app_tasks_are_registered_and_follow_scaling(node):
    labels = {"BERTH_SERVICE_TAGS": "web, v1"}
    r = node.post("/v2/apps", json=app_body("/shop/web", instances=2, labels=labels))
    assert r.status_code == 201, r.text
    tasks = node.wait_running("/shop/web", 2)
    ports = host_ports(tasks)

    rows = node.wait_until(lambda: (lambda rows: rows if len(rows) == 2 else None)(
        catalog(node, "shop-web")), 15, "2 instances of shop-web in the catalog")
    assert sorted(row["ServicePort"] for row in rows) == ports
    assert sorted(row["ServiceID"] for row in rows) == sorted(t["id"] for t in tasks)
    for row in rows:
        assert row["ServiceTags"] == ["web", "v1"]
        assert row["ServiceAddress"] == next(t["host"] for t in tasks if t["id"] == row["ServiceID"])
        assert row["ServiceMeta"]["berth-task"] == row["ServiceID"]
    _, checks = node.consul.health.checks("shop-web")
    assert sorted(c["CheckID"] for c in checks) == sorted(f"service:{t['id']}" for t in tasks)
    assert all(c["Status"] == "passing" for c in checks)
    assert "web" in node.consul.catalog.services()[1]["shop-web"]

    # DNS: A and SRV with the host ports, and a tag lookup
    node.wait_until(lambda: srv_ports(node, "shop-web") == ports, 10, "SRV records of shop-web")
    # (both tasks run on this host: DNS answers its address once)
    hosts = sorted({t["host"] for t in tasks})
    assert a_records(node, "shop-web") == hosts
    assert a_records(node, "v1.shop-web") == hosts
    assert a_records(node, "other.shop-web") == []

    # registration is idempotent: nothing moves while nothing changes
    index, _ = node.consul.catalog.service("shop-web")
    again, _ = node.consul.catalog.service("shop-web", index=index, wait="1s")
    assert again == index

    # scaled down to 1: one instance left, in the catalog and in DNS
    r = node.put("/v2/apps/shop/web", json={"instances": 1})
    assert r.status_code == 200, r.text
    left = node.wait_running("/shop/web", 1)
    node.wait_until(lambda: srv_ports(node, "shop-web") == host_ports(left), 15,
                    "one SRV record left")
    assert [row["ServiceID"] for row in catalog(node, "shop-web")] == [left[0]["id"]]

    # deleted: the service is gone
    assert node.delete("/v2/apps/shop/web").status_code == 200
    node.wait_until(lambda: catalog(node, "shop-web") == [], 15, "shop-web to be deregistered")
    assert "shop-web" not in node.consul.catalog.services()[1]
    assert ask(node, "shop-web.service.consul.").rcode() == dns.rcode.NXDOMAIN


def test_name_override_and_named_ports(node):
    body = app_body("/db", instances=1, labels={"BERTH_SERVICE_NAME": "orders"})
    assert node.post("/v2/apps", json=body).status_code == 201
    body = app_body("/multi", instances=1,
                    ports=[{"port": 0, "name": "http"}, {"port": 0, "name": "admin"}])
    assert node.post("/v2/apps", json=body).status_code == 201
    db = node.wait_running("/db", 1)
    multi = node.wait_running("/multi", 1)[0]

    node.wait_until(lambda: srv_ports(node, "orders") == host_ports(db), 15, "orders in DNS")
    assert catalog(node, "db") == []
    node.wait_until(lambda: srv_ports(node, "multi-http") == [multi["ports"][0]], 15,
                    "multi-http in DNS")
    assert srv_ports(node, "multi-admin") == [multi["ports"][1]]
    assert [row["ServiceID"] for row in catalog(node, "multi-admin")] == [f"{multi['id']}:admin"]
    assert catalog(node, "multi") == []


def test_failing_health_check_excludes_the_instance(node):
    check = {"protocol": "HTTP", "path": "/ok", "portIndex": 0, "gracePeriodSeconds": 0,
             "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 0}
    assert node.post("/v2/apps", json=app_body("/hc", instances=2, check=check)).status_code == 201
    tasks = node.wait_running("/hc", 2)
    ports = host_ports(tasks)
    node.wait_until(lambda: passing_ports(node, "hc") == ports, 15, "2 passing instances")

    # one task's server answers 404 from now on: its instance turns critical
    victim = tasks[0]
    os.unlink(node.berthd.state_dir / "runtime" / "tasks" / victim["id"] / "site" / "ok")
    healthy = [p for p in ports if p != victim["ports"][0]]
    node.wait_until(lambda: passing_ports(node, "hc") == healthy, 15,
                    "the failing instance to leave ?passing")
    assert srv_ports(node, "hc") == healthy
    assert len(catalog(node, "hc")) == 2   # still registered, only unhealthy
    _, checks = node.consul.health.checks("hc")
    status = {c["ServiceID"]: c["Status"] for c in checks}
    assert status[victim["id"]] == "critical"

    # it heals: back in DNS
    (node.berthd.state_dir / "runtime" / "tasks" / victim["id"] / "site" / "ok").touch()
    node.wait_until(lambda: srv_ports(node, "hc") == ports, 15, "the instance to come back")


def test_user_deregistration_sticks_until_the_task_changes(node):
    assert node.post("/v2/apps", json=app_body("/solo", instances=1)).status_code == 201
    task = node.wait_running("/solo", 1)[0]
    node.wait_until(lambda: len(catalog(node, "solo")) == 1, 15, "solo in the catalog")

    assert node.consul.agent.service.deregister(task["id"])
    assert catalog(node, "solo") == []
    _, rows = node.consul.catalog.service("solo", index=node.consul.catalog.service("solo")[0],
                                          wait="1s")
    assert rows == []

    # a restart of berthd reconciles: the task still runs, so it is back
    node.berthd.restart()
    node.wait_until(lambda: len(catalog(node, "solo")) == 1, 15, "solo back after a restart")
