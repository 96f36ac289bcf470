# SPDX-License-Identifier: LGPL-2.1-or-later
"""/v2/groups: nested app groups (create, get, scale, delete)."""

import json
import threading
import time

import requests
from marathon.models.group import MarathonGroup


def test_groups(sched):
    body = {"id": "/shop", "apps": [{"id": "web", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "instances": 2}],
            "groups": [{"id": "back", "apps": [{"id": "db", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8}]}]}
    r = sched.post("/v2/groups", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["deploymentId"]
    sched.wait_running("/shop/web", 2)
    sched.wait_running("/shop/back/db", 1)
    sched.wait_deployments()

    root = sched.get("/v2/groups").json()
    assert root["id"] == "/"
    assert [g["id"] for g in root["groups"]] == ["/shop"]
    shop = sched.client.get_group("/shop")
    assert [a.id for a in shop.apps] == ["/shop/web"]
    assert [g.id for g in shop.groups] == ["/shop/back"]
    assert [a.id for a in shop.groups[0].apps] == ["/shop/back/db"]
    groups = sched.client.list_groups()
    assert isinstance(groups[0], MarathonGroup)

    result = sched.client.scale_group("/shop", 2)
    assert result["deploymentId"]
    sched.wait_running("/shop/web", 4)
    sched.wait_running("/shop/back/db", 2)
    sched.wait_deployments()

    # the same app twice: 409, nothing created
    r = sched.post("/v2/groups", json={"id": "/shop", "apps": [{"id": "web", "cmd": "true"}]})
    assert r.status_code == 409
    # invalid apps: 422 with the path of the bad field
    r = sched.post("/v2/groups", json={"id": "/x", "apps": [{"id": "ok", "cmd": "true", "mem": -1}]})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/apps(0)/mem"
    assert sched.get("/v2/groups/x").status_code == 404

    result = sched.client.delete_group("/shop")
    assert result["deploymentId"]
    assert sched.get("/v2/groups/shop").status_code == 404
    sched.wait_deployments()
    sched.wait_until(lambda: sched.client.list_tasks() == [], 10, "every task to go")


def read_events(url, into, stop):
    try:
        with requests.get(url + "/v2/events", headers={"Accept": "text/event-stream"}, stream=True,
                          timeout=30) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if stop.is_set():
                    return
                line = line.decode()
                if line.startswith("data: "):
                    into.append(json.loads(line[len("data: "):]))
    except requests.exceptions.RequestException:
        if not stop.is_set():
            raise


def test_group_writes_are_app_events(sched):
    """A group write publishes the same `app` and `deployment` events, with
    the caller, as /v2/apps: seen in Marathon's stream and in /api/events."""
    before = sched.get("/api/events?topic=app").json()
    since = before[-1]["sequence"] if before else 0
    events = []
    stop = threading.Event()
    t = threading.Thread(target=read_events, args=(sched.url, events, stop), daemon=True)
    t.start()
    try:
        group_events(sched, since, events)
    finally:
        stop.set()


def group_events(sched, since, events):
    time.sleep(0.5)

    body = {"id": "/evgroup", "apps": [{"id": "a", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8}],
            "groups": [{"id": "sub", "apps": [{"id": "b", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8}]}]}
    r = sched.post("/v2/groups", json=body)
    assert r.status_code == 201, r.text
    first = r.json()["deploymentId"]

    def posted():
        return {e["appDefinition"]["id"]: e for e in events if e["eventType"] == "api_post_event"}
    sched.wait_until(lambda: len(posted()) == 2, 10, "an api_post_event per app")
    assert set(posted()) == {"/evgroup/a", "/evgroup/sub/b"}
    assert all(e["uri"] == "/v2/groups" and e["clientIp"] == "127.0.0.1" for e in posted().values())
    sched.wait_until(lambda: [e for e in events if e["eventType"] == "deployment_info"], 10, "deployment_info")
    infos = [e for e in events if e["eventType"] == "deployment_info"]
    assert first in [e["plan"]["id"] for e in infos]
    sched.wait_deployments()

    app_events = sched.get(f"/api/events?topic=app&since={since}").json()
    created = [e for e in app_events if e["data"]["action"] == "created"]
    assert sorted(e["data"]["appId"] for e in created) == ["/evgroup/a", "/evgroup/sub/b"]
    for e in created:
        assert e["topic"] == "app"
        assert e["caller"].startswith("tcp 127.0.0.1:")
        assert e["data"]["group"] == "/evgroup"
        assert e["data"]["deploymentId"]

    # scaling and deleting the group are app events too
    last = app_events[-1]["sequence"]
    r = sched.put("/v2/groups/evgroup", json={"scaleBy": 2})
    assert r.status_code == 200, r.text
    sched.wait_deployments()
    r = sched.client.delete_group("/evgroup")
    assert r["deploymentId"]
    later = sched.get(f"/api/events?topic=app&since={last}").json()
    actions = sorted((e["data"]["action"], e["data"]["appId"]) for e in later)
    assert actions == [("deleted", "/evgroup/a"), ("deleted", "/evgroup/sub/b"),
                       ("scaled", "/evgroup/a"), ("scaled", "/evgroup/sub/b")]
    assert all(e["caller"].startswith("tcp 127.0.0.1:") for e in later)
    sched.wait_deployments()
