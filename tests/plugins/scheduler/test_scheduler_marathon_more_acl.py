# SPDX-License-Identifier: LGPL-2.1-or-later
"""The newer Marathon endpoints under the security plugin's ACLs: every
app an operation touches needs `app` write, and a refusal changes
nothing (PUT /v2/apps, PATCH, DELETE /v2/queue/<id>/delay,
POST /v2/tasks/delete)."""

import time

import pytest
import requests

marathon = pytest.importorskip("marathon", reason="python3-marathon is not installed")

TEAM_A_RULES = """
node_prefix "" { policy = "read" }
app_prefix "/team-a/" { policy = "write" }
"""


def app(app_id, **kw):
    body = dict(id=app_id, cmd="exec sleep 600", cpus=0.01, mem=8, instances=1)
    body.update(kw)
    return marathon.MarathonApp(**body)


@pytest.fixture
def acl(berthd_factory, berth_env):
    admin_port = berth_env.free_port()
    b = berthd_factory(extra_args=["--listen", f"admin=127.0.0.1:{admin_port}"])
    if not b.token:
        pytest.skip("no security plugin in this build")
    admin = f"http://127.0.0.1:{admin_port}"
    headers = {"X-Consul-Token": b.token}
    r = requests.put(admin + "/v1/acl/policy", headers=headers, timeout=10,
                     json={"Name": "team-a", "Rules": TEAM_A_RULES})
    assert r.status_code == 200, r.text
    r = requests.put(admin + "/v1/acl/token", headers=headers, timeout=10,
                     json={"Description": "team a", "Policies": [{"Name": "team-a"}]})
    assert r.status_code == 200, r.text
    b.team = {"Authorization": "token=" + r.json()["SecretID"]}
    b.admin = marathon.MarathonClient(b.url, timeout=10, auth_token=b.token)
    return b


def wait_until(fn, timeout=15, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}", pytrace=False)


def test_new_endpoints_need_write_on_every_app(acl):
    b = acl
    b.admin.create_app("/team-b/web", app("/team-b/web"))
    b.admin.create_app("/team-a/web", app("/team-a/web"))
    before = b.admin.get_app("/team-b/web").version
    wait_until(lambda: b.admin.list_deployments() == [], what="both apps deployed")

    # PUT /v2/apps: one app of another team refuses the whole list
    r = requests.put(b.url + "/v2/apps", headers=b.team, timeout=10,
                     json=[{"id": "/team-a/web", "instances": 2}, {"id": "/team-b/web", "instances": 3}])
    assert r.status_code == 403, r.text
    assert b.admin.get_app("/team-a/web").instances == 1
    assert b.admin.get_app("/team-b/web").version == before
    r = requests.put(b.url + "/v2/apps", headers=b.team, timeout=10,
                     json=[{"id": "/team-a/web", "instances": 2}, {"id": "/team-a/api", "cmd": "exec sleep 600",
                                                                  "cpus": 0.01, "mem": 8, "instances": 0}])
    assert r.status_code == 200, r.text
    assert b.admin.get_app("/team-a/web").instances == 2
    wait_until(lambda: b.admin.list_deployments() == [], what="the list deployed")

    # PATCH
    r = requests.patch(b.url + "/v2/apps/team-b/web", headers=b.team, json={"instances": 0}, timeout=10)
    assert r.status_code == 403
    r = requests.patch(b.url + "/v2/apps/team-a/api", headers=b.team, json={"instances": 1}, timeout=10)
    assert r.status_code == 200, r.text

    # the launch delay
    r = requests.delete(b.url + "/v2/queue/team-b/web/delay", headers=b.team, timeout=10)
    assert r.status_code == 403
    r = requests.delete(b.url + "/v2/queue/team-a/web/delay", headers=b.team, timeout=10)
    assert r.status_code == 204

    # kills by task id
    b_task = wait_until(lambda: [t for t in b.admin.list_tasks("/team-b/web") if t.state == "TASK_RUNNING"],
                        what="team b's task")[0]
    r = requests.post(b.url + "/v2/tasks/delete?scale=true", headers=b.team, json={"ids": [b_task.id]},
                      timeout=10)
    assert r.status_code == 403
    assert b.admin.get_app("/team-b/web").instances == 1
    assert b_task.id in [t.id for t in b.admin.list_tasks("/team-b/web")]


def test_event_subscriptions_need_every_app(acl):
    b = acl
    url = "http://127.0.0.1:9/callback"
    # a callback gets the events of every app: a team's token may not subscribe
    r = requests.post(b.url + "/v2/eventSubscriptions", params={"callbackUrl": url}, headers=b.team, timeout=10)
    assert r.status_code == 403, r.text
    r = requests.get(b.url + "/v2/eventSubscriptions", headers=b.team, timeout=10)
    assert r.status_code == 403
    assert b.admin.list_event_subscriptions() == []
    assert b.admin.create_event_subscription(url)["callbackUrl"] == url
    r = requests.delete(b.url + "/v2/eventSubscriptions", params={"callbackUrl": url}, headers=b.team, timeout=10)
    assert r.status_code == 403
    assert b.admin.list_event_subscriptions() == [url]
