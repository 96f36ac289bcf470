# SPDX-License-Identifier: LGPL-2.1-or-later
"""App definition fields about how tasks are replaced and killed:
readinessChecks (deployments wait for them, ?embed=apps.readiness),
killSelection on scale down, unreachableStrategy; apps Berth refuses
(residency, persistent volumes); ?embed=apps.counts."""

import requests
from marathon import MarathonApp

SLEEP = "sleep 1000"

# answers 200 on /ready once the file $READY_FLAG exists, 503 before
READY_SERVER = (
    "exec /usr/bin/python3 -c '\n"
    "import http.server, os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        ok = self.path == \"/ready\" and os.path.exists(os.environ[\"READY_FLAG\"])\n"
    "        self.send_response(200 if ok else 503)\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b\"ready\" if ok else b\"warming up\")\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "http.server.HTTPServer((\"127.0.0.1\", int(os.environ[\"PORT0\"])), H).serve_forever()\n"
    "'"
)


def test_readiness_check_holds_the_deployment(sched, tmp_path):
    flag = tmp_path / "ready"
    r = sched.post("/v2/apps", json={
        "id": "/warm", "cmd": READY_SERVER, "cpus": 0.01, "mem": 32, "instances": 1,
        "env": {"READY_FLAG": str(flag)},
        "portDefinitions": [{"port": 0, "name": "http-api"}],
        "readinessChecks": [{"path": "/ready", "portName": "http-api", "intervalSeconds": 2,
                             "timeoutSeconds": 1, "httpStatusCodesForReady": [200],
                             "preserveLastResponse": True}]})
    assert r.status_code == 201, r.text
    check = r.json()["readinessChecks"][0]
    assert check["name"] == "readinessCheck" and check["protocol"] == "HTTP"
    sched.wait_running("/warm", 1)

    def results():
        apps = sched.get("/v2/apps?embed=apps.readiness&embed=apps.counts").json()["apps"]
        res = apps[0].get("readinessCheckResults")
        # the first probe may find no server yet (status 0)
        return (apps[0], res) if res and res[0].get("lastResponse", {}).get("status") == 503 else None
    app, res = sched.wait_until(results, 10, "a readiness result of 503")
    assert res[0]["ready"] is False
    assert res[0]["lastResponse"]["body"] == "warming up"
    # the real client asks for the same embed
    listed = sched.client.list_apps(embed_readiness=True)[0]
    assert listed.readiness_check_results[0]["ready"] is False
    assert app["tasksRunning"] == 1 and app["tasksStaged"] == 0
    # running, but not ready: the deployment waits, and says why
    deps = [d for d in sched.get("/v2/deployments").json() if "/warm" in d["affectedApps"]]
    assert deps
    results = deps[0]["currentActions"][0]["readinessCheckResults"]
    assert results[0]["taskId"] == res[0]["taskId"] and results[0]["ready"] is False
    flag.write_text("")
    sched.wait_deployments("/warm", timeout=15)
    res = sched.client.get_app("/warm").readiness_check_results
    assert res[0]["ready"] is True and res[0]["lastResponse"]["status"] == 200
    # the real client reads the check back
    rc = sched.client.get_app("/warm").readiness_checks[0]
    assert rc.port_name == "http-api" and rc.path == "/ready"


def test_readiness_check_bad_input(sched):
    base = {"id": "/bad-ready", "cmd": SLEEP, "cpus": 0.01, "mem": 8,
            "portDefinitions": [{"port": 0, "name": "http-api"}]}
    cases = [
        ({"portName": "nope"}, "/readinessChecks(0)/portName"),
        ({"intervalSeconds": 5, "timeoutSeconds": 10}, "/readinessChecks(0)/timeoutSeconds"),
        ({"protocol": "TCP"}, "/readinessChecks(0)/protocol"),
        ({"httpStatusCodesForReady": []}, "/readinessChecks(0)/httpStatusCodesForReady"),
        ({"httpStatusCodesForReady": [99]}, "/readinessChecks(0)/httpStatusCodesForReady(0)"),
    ]
    for check, path in cases:
        r = sched.post("/v2/apps", json=dict(base, readinessChecks=[check]))
        assert r.status_code == 422, (check, r.text)
        assert r.json()["message"] == "Object is not valid"
        assert path in [d["path"] for d in r.json()["details"]], (check, r.json())
    assert sched.client.list_apps() == []


def test_counts_embed(sched):
    sched.client.create_app("/counted", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=2))
    sched.wait_running("/counted", 2)
    apps = sched.client.list_apps(embed_counts=True)
    assert apps[0].tasks_running == 2 and apps[0].tasks_staged == 0
    raw = sched.get("/v2/apps?embed=apps.counts").json()["apps"][0]
    assert (raw["tasksRunning"], raw["tasksStaged"], raw["tasksHealthy"], raw["tasksUnhealthy"]) == (2, 0, 0, 0)


def test_kill_selection_on_scale_down(sched):
    for selection, keep in (("OldestFirst", "newest"), ("YoungestFirst", "oldest")):
        app_id = f"/ks-{selection.lower()}"
        r = sched.post("/v2/apps", json={"id": app_id, "cmd": SLEEP, "cpus": 0.01, "mem": 8, "instances": 1,
                                         "killSelection": selection})
        assert r.status_code == 201
        assert r.json()["killSelection"] in ("OLDEST_FIRST", "YOUNGEST_FIRST")
        first = sched.wait_running(app_id, 1)[0]["id"]
        sched.wait_deployments(app_id)
        sched.client.scale_app(app_id, instances=2)
        tasks = sched.wait_running(app_id, 2)
        second = [t["id"] for t in tasks if t["id"] != first][0]
        sched.wait_deployments(app_id)
        sched.client.scale_app(app_id, instances=1)
        left = sched.wait_until(lambda: (lambda t: t if len(t) == 1 else None)(sched.tasks(app_id)), 15,
                                f"{app_id} scaled down")
        assert left[0]["id"] == (second if keep == "newest" else first), selection
    assert sched.client.get_app("/ks-oldestfirst").kill_selection == "OLDEST_FIRST"
    r = sched.post("/v2/apps", json={"id": "/ks-bad", "cmd": SLEEP, "killSelection": "Random"})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/killSelection"


def test_unreachable_strategy_is_stored_and_echoed(sched):
    r = sched.post("/v2/apps", json={"id": "/unr", "cmd": SLEEP, "cpus": 0.01, "mem": 8, "instances": 0,
                                     "unreachableStrategy": {"inactiveAfterSeconds": 60,
                                                             "expungeAfterSeconds": 120}})
    assert r.status_code == 201, r.text
    app = sched.client.get_app("/unr")
    assert app.unreachable_strategy.inactive_after_seconds == 60
    assert app.unreachable_strategy.expunge_after_seconds == 120
    r = requests.patch(sched.url + "/v2/apps/unr", json={"unreachableStrategy": "disabled"}, timeout=10)
    assert r.status_code == 200, r.text
    assert sched.get("/v2/apps/unr").json()["app"]["unreachableStrategy"] == "disabled"
    r = requests.patch(sched.url + "/v2/apps/unr", json={"unreachableStrategy": {"inactiveAfterSeconds": 60,
                                                                                  "expungeAfterSeconds": 5}},
                       timeout=10)
    assert r.status_code == 422
    assert sched.get("/v2/apps/unr").json()["app"]["unreachableStrategy"] == "disabled"


def test_residency_and_persistent_volumes_refused(sched):
    r = sched.post("/v2/apps", json={"id": "/db", "cmd": SLEEP, "cpus": 0.01, "mem": 8,
                                     "residency": {"taskLostBehavior": "WAIT_FOREVER"}})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/residency"
    assert "persistent volumes" in r.json()["details"][0]["errors"][0]
    r = sched.post("/v2/apps", json={"id": "/db", "cmd": SLEEP, "cpus": 0.01, "mem": 8,
                                     "container": {"type": "MESOS", "docker": {"image": "busybox"},
                                                   "volumes": [{"containerPath": "data", "mode": "RW",
                                                                "persistent": {"size": 10}}]}})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == "/container/volumes(0)/persistent"
    assert sched.client.list_apps() == []
