# SPDX-License-Identifier: LGPL-2.1-or-later
"""Health checks, rolling deployments, rollback and deployment locks."""

import os
import threading
import time

import pytest
from marathon import MarathonApp
from marathon.exceptions import ConflictError

# A tiny HTTP server the task runs itself, in its own sandbox: GET /ok
# answers 200 while the file `site/ok` exists.
SERVER = ("mkdir -p site && touch site/ok && cd site && "
          "exec /usr/bin/python3 -m http.server $PORT0 --bind 127.0.0.1")


def http_check(path="/ok", grace=10, interval=1, failures=2):
    return {"protocol": "HTTP", "path": path, "portIndex": 0, "gracePeriodSeconds": grace,
            "intervalSeconds": interval, "timeoutSeconds": 1, "maxConsecutiveFailures": failures}


def app_body(app_id, instances=1, check=None, env=None, **extra):
    body = {"id": app_id, "cmd": SERVER, "cpus": 0.01, "mem": 16, "instances": instances,
            "backoffSeconds": 0.2, "healthChecks": [check or http_check()]}
    if env:
        body["env"] = env
    body.update(extra)
    return body


def healthy_tasks(sched, app_id):
    return [t for t in sched.tasks(app_id)
            if any(r.get("alive") for r in t.get("healthCheckResults", []))]


def test_http_health_check_and_replacement(sched):
    r = sched.post("/v2/apps", json=app_body("/hc", instances=2))
    assert r.status_code == 201, r.text
    sched.wait_until(lambda: len(healthy_tasks(sched, "/hc")) == 2, 20, "2 healthy tasks")
    sched.wait_deployments("/hc")
    app = sched.client.get_app("/hc")
    assert app.tasks_healthy == 2 and app.tasks_unhealthy == 0
    assert all(t.health_check_results[0].alive for t in app.tasks)

    # make one task's server answer 404: it turns unhealthy, then is replaced
    victim = app.tasks[0].id
    os.unlink(sched.berthd.state_dir / "runtime" / "tasks" / victim / "site" / "ok")

    def replaced():
        tasks = healthy_tasks(sched, "/hc")
        return len(tasks) == 2 and victim not in {t["id"] for t in sched.tasks("/hc")}
    sched.wait_until(replaced, 30, "the unhealthy task to be replaced by a healthy one")
    assert sched.client.get_app("/hc").tasks_healthy == 2


def test_tcp_and_command_checks(sched):
    tcp = {"protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 10, "intervalSeconds": 1,
           "timeoutSeconds": 1, "maxConsecutiveFailures": 3}
    cmd = {"protocol": "COMMAND", "command": {"value": "test -n \"$PORT0\""}, "gracePeriodSeconds": 10,
           "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3}
    assert sched.post("/v2/apps", json=app_body("/tcp", check=tcp)).status_code == 201
    assert sched.post("/v2/apps", json=app_body("/command", check=cmd)).status_code == 201
    sched.wait_until(lambda: len(healthy_tasks(sched, "/tcp")) == 1, 20, "a healthy TCP task")
    sched.wait_until(lambda: len(healthy_tasks(sched, "/command")) == 1, 20, "a healthy COMMAND task")


def test_rolling_upgrade_keeps_minimum_health(sched):
    body = app_body("/rolling", instances=4, upgradeStrategy={"minimumHealthCapacity": 0.5,
                                                              "maximumOverCapacity": 0})
    assert sched.post("/v2/apps", json=body).status_code == 201
    sched.wait_until(lambda: len(healthy_tasks(sched, "/rolling")) == 4, 30, "4 healthy tasks")
    sched.wait_deployments("/rolling")
    old = {t["id"] for t in sched.tasks("/rolling")}

    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(len(healthy_tasks(sched, "/rolling")))
            except Exception:  # noqa: BLE001 - a sampling miss is not a result
                pass
            time.sleep(0.05)
    t = threading.Thread(target=sample)
    t.start()
    try:
        r = sched.put("/v2/apps/rolling", json={"env": {"RELEASE": "2"}})
        assert r.status_code == 200, r.text
        dep = r.json()["deploymentId"]
        assert dep in [d["id"] for d in sched.get("/v2/deployments").json()]
        sched.wait_deployments("/rolling", timeout=60)
    finally:
        stop.set()
        t.join()
    tasks = sched.tasks("/rolling")
    assert len(tasks) == 4 and not ({x["id"] for x in tasks} & old)
    assert samples and min(samples) >= 2, samples
    assert len(healthy_tasks(sched, "/rolling")) == 4


def test_rollback_of_a_deployment_that_never_gets_healthy(sched):
    assert sched.post("/v2/apps", json=app_body("/rb", instances=2)).status_code == 201
    sched.wait_until(lambda: len(healthy_tasks(sched, "/rb")) == 2, 20, "2 healthy tasks")
    sched.wait_deployments("/rb")
    good = sched.get("/v2/apps/rb").json()["app"]

    r = sched.put("/v2/apps/rb", json={"healthChecks": [http_check("/never", grace=30)]})
    assert r.status_code == 200
    dep = r.json()["deploymentId"]
    time.sleep(2)
    # the old tasks are still there, the deployment waits
    assert [d["id"] for d in sched.get("/v2/deployments").json()] == [dep]
    assert len(healthy_tasks(sched, "/rb")) >= 2

    # one deployment per app: 409 unless forced
    with pytest.raises(ConflictError):
        sched.client.scale_app("/rb", 3)
    r = sched.put("/v2/apps/rb", json={"instances": 3})
    assert r.status_code == 409
    assert r.json()["deployments"] == [{"id": dep}]

    r = sched.delete(f"/v2/deployments/{dep}")
    assert r.status_code == 200, r.text
    sched.wait_deployments("/rb", timeout=30)
    app = sched.get("/v2/apps/rb").json()["app"]
    assert app["healthChecks"] == good["healthChecks"]
    sched.wait_until(lambda: len(healthy_tasks(sched, "/rb")) == 2 and len(sched.tasks("/rb")) == 2,
                     20, "2 healthy tasks of the old config")

    # ?force=true overrides the lock; DELETE ?force=true just stops a deployment
    r = sched.put("/v2/apps/rb", json={"healthChecks": [http_check("/never", grace=30)]})
    dep = r.json()["deploymentId"]
    r = sched.put("/v2/apps/rb?force=true", json={"instances": 3})
    assert r.status_code == 200
    dep2 = r.json()["deploymentId"]
    assert dep2 != dep
    r = sched.delete(f"/v2/deployments/{dep2}?force=true")
    assert r.status_code == 202
    assert sched.get("/v2/deployments").json() == []
    assert sched.delete("/v2/deployments/nope").status_code == 404


def test_host_command_checks_need_the_switch(sched_factory, tmp_path):
    """A COMMAND check of an app without a container would run on the
    host: refused (422, naming the key) unless [berthd] enable_script_checks."""
    conf = tmp_path / "off.conf"
    conf.write_text("[scheduler]\n")
    s = sched_factory(["--config", str(conf)])
    check = {"protocol": "COMMAND", "command": {"value": "true"}}
    r = s.post("/v2/apps", json={"id": "/hostcmd", "cmd": "sleep 100", "cpus": 0.01, "mem": 8,
                                 "healthChecks": [check]})
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["path"] == "/healthChecks(0)/protocol"
    assert "enable_script_checks" in r.text
    r = s.post("/v2/groups", json={"id": "/g", "apps": [{"id": "a", "cmd": "sleep 100", "cpus": 0.01, "mem": 8,
                                                         "healthChecks": [check]}]})
    assert r.status_code == 422, r.text
    assert "enable_script_checks" in r.text
    # HTTP and TCP checks are not concerned
    r = s.post("/v2/apps", json={"id": "/tcpcheck", "cmd": "sleep 100", "cpus": 0.01, "mem": 8,
                                 "healthChecks": [{"protocol": "TCP"}]})
    assert r.status_code == 201, r.text
