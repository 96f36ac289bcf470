# SPDX-License-Identifier: LGPL-2.1-or-later
"""Discovery on the event bus: "catalog" events when a service is
registered or deregistered, "health" events when a check's status changes,
each with the caller that caused it (discovery itself for its own check
runner). Script checks are allowed by [berthd] enable_script_checks too."""

import os


def events(node, topic, since=0):
    r = node.get(f"/api/events?topic={topic}&since={since}")
    assert r.status_code == 200, r.text
    return r.json()


def last_sequence(node):
    all_events = node.get("/api/events").json()
    return all_events[-1]["sequence"] if all_events else 0


def test_service_register_and_deregister_are_catalog_events(discovery_node):
    node = discovery_node("node1", dns=False)
    since = last_sequence(node)
    r = node.put("/v1/agent/service/register",
                 json={"Name": "web", "ID": "web1", "Port": 80})
    assert r.status_code == 200, r.text
    # the same again changes nothing: no event
    node.put("/v1/agent/service/register", json={"Name": "web", "ID": "web1", "Port": 80})
    r = node.unix_request("PUT", "/v1/agent/service/deregister/web1")
    assert r.status == 200
    got = events(node, "catalog", since)
    assert [e["data"]["Action"] for e in got] == ["register", "deregister"], got
    reg, dereg = got
    assert reg["data"]["ServiceID"] == "web1" and reg["data"]["ServiceName"] == "web"
    assert reg["data"]["Node"] == "node1"
    assert reg["caller"].startswith("tcp 127.0.0.1:")
    assert dereg["caller"] == f"unix uid={os.getuid()} pid={os.getpid()}"


def test_check_status_changes_are_health_events(discovery_node, wait_until):
    node = discovery_node("node1", dns=False)
    since = last_sequence(node)
    r = node.put("/v1/agent/check/register",
                 json={"Name": "beat", "ID": "beat", "TTL": "10s"})
    assert r.status_code == 200, r.text
    assert node.put("/v1/agent/check/pass/beat?note=alive").status_code == 200
    # the same status again is no change
    assert node.put("/v1/agent/check/pass/beat?note=still").status_code == 200
    got = events(node, "health", since)
    assert [(e["data"]["OldStatus"], e["data"]["Status"]) for e in got] == \
        [(None, "critical"), ("critical", "passing")], got
    assert got[1]["data"]["CheckID"] == "beat"
    assert got[1]["data"]["Node"] == "node1"
    assert got[1]["data"]["Output"] == "alive"
    assert got[1]["caller"].startswith("tcp 127.0.0.1:")


def test_check_runner_events_and_berthd_script_switch(discovery_node, wait_until):
    node = discovery_node("node1", dns=False,
                          extra_config="enable_script_checks = true\n")
    since = last_sequence(node)
    r = node.put("/v1/agent/service/register", json={
        "Name": "web", "ID": "web1",
        "Check": {"Args": ["sh", "-c", "echo fine"], "Interval": "200ms"}})
    assert r.status_code == 200, r.text

    def passed():
        return [e for e in events(node, "health", since)
                if e["data"]["Status"] == "passing"]
    e = wait_until(passed, 5, "a passing health event")[0]
    assert e["data"]["OldStatus"] == "critical"
    assert e["data"]["ServiceID"] == "web1"
    assert e["data"]["ServiceName"] == "web"
    assert e["data"]["Output"] == "fine\n"
    assert e["caller"] == "internal discovery"
