# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Marathon endpoints beyond the basics: PUT /v2/apps (several apps at
once), PATCH /v2/apps/<id>, DELETE /v2/queue/<id>/delay, the kills of
POST /v2/tasks/delete, /v2/info's version and the event stream through
marathon-python."""

import threading
import time

import requests
from marathon import MarathonApp

SLEEP = "sleep 1000"


def test_info_speaks_marathon_1_11(sched):
    raw = sched.get("/v2/info").json()
    assert raw["version"] == "1.11.0"
    # Berth's own version: in buildref (marathon-python refuses unknown members)
    assert raw["buildref"].startswith("berth-") and len(raw["buildref"]) > len("berth-")
    info = sched.client.get_info()
    assert info.version == "1.11.0"
    assert info.buildref == raw["buildref"]


def test_event_stream_through_marathon_python(sched):
    seen = []
    done = threading.Event()

    def read():
        for event in sched.client.event_stream(event_types=["api_post_event"]):
            seen.append(event)
            if getattr(event, "app_definition", None) is not None:
                done.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    sched.client.create_app("/streamed", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=0))
    assert done.wait(10 * sched.scale), seen
    assert seen[-1].event_type == "api_post_event"
    assert seen[-1].app_definition["id"] == "/streamed"


def test_put_apps_creates_and_updates_several(sched):
    sched.client.create_app("/batch/one", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1))
    sched.wait_running("/batch/one", 1)
    sched.wait_deployments("/batch/one")
    result = sched.client.update_apps([
        MarathonApp(id="/batch/one", instances=2),
        MarathonApp(id="/batch/two", cmd=SLEEP, cpus=0.01, mem=8, instances=1),
    ])
    assert result["deploymentId"]
    assert result["version"]
    one = sched.client.get_app("/batch/one")
    two = sched.client.get_app("/batch/two")
    # a partial update: /batch/one kept its command
    assert one.cmd == SLEEP and one.instances == 2
    assert two.instances == 1
    assert one.version == two.version == result["version"]
    sched.wait_running("/batch/one", 2)
    sched.wait_running("/batch/two", 1)


def test_put_apps_refuses_bad_input_and_changes_nothing(sched):
    r = sched.put("/v2/apps", json=[{"id": "/good", "cmd": SLEEP, "mem": 8, "cpus": 0.01},
                                    {"id": "/bad", "cmd": SLEEP, "mem": "lots"}])
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"] == "Object is not valid"
    assert any(d["path"] == "/(1)/mem" for d in body["details"]), body
    r = sched.put("/v2/apps", json=[{"id": "/fresh", "cmd": SLEEP, "mem": 8, "cpus": 0.01, "instances": 0}])
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"version", "deploymentId"}
    sched.wait_deployments("/fresh")
    sched.client.delete_app("/fresh")
    sched.wait_deployments("/fresh")
    r = sched.put("/v2/apps", json={"id": "/notalist", "cmd": SLEEP})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/"
    r = sched.put("/v2/apps", json=[{"id": "/twice", "cmd": SLEEP}, {"id": "/twice", "cmd": "true"}])
    assert r.status_code == 422
    assert sched.client.list_apps() == []


def test_patch_merges_fields(sched):
    sched.client.create_app("/patched", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1,
                                                    env={"A": "1"}, labels={"team": "x"}))
    sched.wait_deployments("/patched")
    r = requests.patch(sched.url + "/v2/apps/patched", json={"env": {"B": "2"}, "instances": 2}, timeout=10)
    assert r.status_code == 200, r.text
    assert set(r.json()) >= {"version", "deploymentId"}
    app = sched.client.get_app("/patched")
    assert app.instances == 2
    assert app.env == {"B": "2"}          # a given field replaces the field
    assert app.labels == {"team": "x"}    # the others stay
    assert app.cmd == SLEEP and app.mem == 8
    sched.wait_running("/patched", 2)
    r = requests.patch(sched.url + "/v2/apps/patched", json={"instances": -1}, timeout=10)
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/instances"
    assert sched.client.get_app("/patched").instances == 2
    # PATCH changes an app, it does not create one
    r = requests.patch(sched.url + "/v2/apps/nosuch", json={"cmd": SLEEP, "mem": 8, "cpus": 0.01}, timeout=10)
    assert r.status_code == 404, r.text
    assert "does not exist" in r.json()["message"]
    assert [a.id for a in sched.client.list_apps()] == ["/patched"]


def test_put_without_partial_update_replaces(sched):
    sched.client.create_app("/whole", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=2, env={"A": "1"}))
    sched.wait_deployments("/whole")
    r = sched.put("/v2/apps/whole?partialUpdate=maybe", json={"cmd": "sleep 999"})
    assert r.status_code == 400
    # merged by default
    r = sched.put("/v2/apps/whole", json={"cmd": "sleep 999"})
    assert r.status_code == 200, r.text
    assert sched.client.get_app("/whole").env == {"A": "1"}
    sched.wait_deployments("/whole")
    # replaced: what the body leaves out takes Marathon's defaults
    r = sched.put("/v2/apps/whole?partialUpdate=false", json={"cmd": "sleep 998", "cpus": 0.01, "mem": 8})
    assert r.status_code == 200, r.text
    app = sched.client.get_app("/whole")
    assert app.cmd == "sleep 998" and app.env == {} and app.instances == 1
    sched.wait_deployments("/whole")
    r = sched.put("/v2/apps?partialUpdate=false", json=[{"id": "/whole", "cmd": SLEEP, "cpus": 0.01, "mem": 8,
                                                         "instances": 0}])
    assert r.status_code == 200, r.text
    assert sched.client.get_app("/whole").instances == 0


def test_reset_delay_relaunches_a_crash_looping_app(sched):
    r = sched.post("/v2/apps", json={"id": "/crashy", "cmd": "sleep 0.3; exit 1", "cpus": 0.01, "mem": 8,
                                     "instances": 1, "backoffSeconds": 300, "backoffFactor": 1})
    assert r.status_code == 201

    def delayed():
        q = [i for i in sched.get("/v2/queue").json()["queue"] if i["app"]["id"] == "/crashy"]
        return q if q and q[0]["delay"]["timeLeftSeconds"] > 60 else None
    sched.wait_until(delayed, 15, "/crashy delayed by its backoff")
    assert sched.tasks("/crashy") == []
    sched.client.reset_delay("/crashy")
    r = sched.delete("/v2/queue/crashy/delay")
    assert r.status_code == 204
    # launched again now, not in 300 s
    sched.wait_until(lambda: sched.tasks("/crashy"), 10, "a new task of /crashy")
    r = sched.delete("/v2/queue/nosuchapp/delay")
    assert r.status_code == 404


def test_tasks_delete_scale_and_wipe(sched):
    sched.client.create_app("/killme", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=3))
    tasks = sched.wait_running("/killme", 3)
    sched.wait_deployments("/killme")
    assert sched.client.kill_given_tasks([tasks[0]["id"]], scale=True)
    assert sched.client.get_app("/killme").instances == 2
    sched.wait_running("/killme", 2)
    # without scale the task is replaced
    tasks = sched.tasks("/killme")
    r = sched.post("/v2/tasks/delete?wipe=true", json={"ids": [tasks[0]["id"]]})
    assert r.status_code == 200, r.text
    assert [t["id"] for t in r.json()["tasks"]] == [tasks[0]["id"]]
    after = sched.wait_until(lambda: (lambda t: t if len(t) == 2 and tasks[0]["id"] not in [x["id"] for x in t]
                                      else None)(sched.running("/killme")), 15, "a replacement")
    assert sched.client.get_app("/killme").instances == 2
    r = sched.post("/v2/tasks/delete?wipe=true&scale=true", json={"ids": [after[0]["id"]]})
    assert r.status_code == 400
    r = sched.post("/v2/tasks/delete?wipe=maybe", json={"ids": [after[0]["id"]]})
    assert r.status_code == 400
    assert len(sched.running("/killme")) == 2


def never_ready(app_id):
    """An app whose readiness check never passes (nothing listens)."""
    return {"id": app_id, "cmd": SLEEP, "cpus": 0.01, "mem": 8, "instances": 1,
            "portDefinitions": [{"port": 0, "name": "http-api"}],
            "readinessChecks": [{"portName": "http-api", "intervalSeconds": 2, "timeoutSeconds": 1}]}


def test_put_apps_is_one_deployment_cancelled_whole(sched):
    for app_id in ("/multi/a", "/multi/b"):
        sched.client.create_app(app_id, MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=0))
    sched.wait_deployments()
    r = sched.put("/v2/apps", json=[never_ready("/multi/a"), never_ready("/multi/b")])
    assert r.status_code == 200, r.text
    deployment = r.json()["deploymentId"]
    deps = sched.get("/v2/deployments").json()
    assert [d["id"] for d in deps] == [deployment]
    assert sorted(deps[0]["affectedApps"]) == ["/multi/a", "/multi/b"]
    assert sorted(a["app"] for a in deps[0]["currentActions"]) == ["/multi/a", "/multi/b"]
    for app_id in ("/multi/a", "/multi/b"):
        assert sched.get(f"/v2/apps{app_id}").json()["app"]["deployments"] == [{"id": deployment}]
    # the real client sees one deployment too
    assert [d.id for d in sched.client.list_deployments()] == [deployment]
    sched.wait_running("/multi/a", 1)
    sched.wait_running("/multi/b", 1)
    # running but never ready: the deployment stays
    time.sleep(1)
    assert [d["id"] for d in sched.get("/v2/deployments").json()] == [deployment]

    # cancelled: both apps go back, in one new deployment
    r = sched.delete(f"/v2/deployments/{deployment}")
    assert r.status_code == 200, r.text
    rollback = r.json()["deploymentId"]
    assert rollback != deployment
    sched.wait_deployments()
    for app_id in ("/multi/a", "/multi/b"):
        app = sched.get(f"/v2/apps{app_id}").json()["app"]
        assert app["instances"] == 0 and app["readinessChecks"] == []
    sched.wait_until(lambda: not sched.tasks("/multi/a") and not sched.tasks("/multi/b"), 10, "the tasks gone")
    assert sched.delete(f"/v2/deployments/{deployment}").status_code == 404


def test_multi_app_deployment_stopped_with_force(sched):
    r = sched.put("/v2/apps", json=[never_ready("/forced/a"), never_ready("/forced/b")])
    assert r.status_code == 200, r.text
    deployment = r.json()["deploymentId"]
    r = sched.delete(f"/v2/deployments/{deployment}?force=true")
    assert r.status_code == 202, r.text
    assert sched.get("/v2/deployments").json() == []
    # stopped where they were: the apps stay
    assert sorted(a.id for a in sched.client.list_apps()) == ["/forced/a", "/forced/b"]
