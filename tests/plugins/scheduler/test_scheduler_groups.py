# SPDX-License-Identifier: LGPL-2.1-or-later
"""/v2/groups: nested app groups (create, get, scale, delete)."""

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
