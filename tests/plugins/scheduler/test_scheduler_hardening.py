# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hardening of the scheduler (issue 11): app definitions of any shape are
refused with 4xx instead of crashing berthd, a stored app that no longer
validates is set aside instead of crash-looping it, zero-resource and huge
apps cannot exhaust the node, and what is stored is bounded."""

import json
import sqlite3
import time

import pytest
import requests
from marathon import MarathonApp
from marathon.models.app import MarathonHealthCheck
from marathon.exceptions import MarathonHttpError

SLEEP = "sleep 1000"


def app(app_id, **kw):
    d = {"id": app_id, "cmd": SLEEP, "cpus": 0.01, "mem": 8, "instances": 1}
    d.update(kw)
    return d


def config(tmp_path, **values):
    path = tmp_path / "berth.conf"
    lines = ["[berthd]", "enable_script_checks=true", "[scheduler]"] + [f"{k}={v}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path)]


def assert_alive(sched):
    assert sched.berthd.running, "berthd died:\n" + sched.berthd.stderr()[-3000:]
    assert sched.get("/ping").status_code == 200


def assert_no_criticals(sched):
    err = sched.berthd.stderr()
    assert "CRITICAL" not in err and "assertion" not in err, err[-3000:]


def assert_invalid(r, path=None):
    assert r.status_code == 422, (r.status_code, r.text)
    body = r.json()
    assert body["message"] == "Object is not valid", body
    if path is not None:
        assert path in [d["path"] for d in body["details"]], body


def app_ids(sched):
    return [a["id"] for a in sched.get("/v2/apps").json()["apps"]]


def sleeps(sched):
    """The task commands running (each task also has a wrapper shell)."""
    return [pid for pid, cmd in sched.procs().items() if cmd == SLEEP]


def broken(sched):
    r = sched.get("/api/status")
    assert r.status_code == 200, r.text
    return {(e["kind"], e["id"]): e["reason"] for e in r.json()["broken"]}


# ---- constraints -----------------------------------------------------------

BAD_CONSTRAINTS = [
    [[1, "UNIQUE"]],                      # crashed placement (NULL in g_str_hash)
    [["hostname", 2]],
    [["hostname", "CLUSTER", {}]],
    [["hostname"]],
    [["hostname", "UNIQUE", "a", "b"]],
    ["hostname"],
    [["hostname", "SOMETIMES"]],
    [["hostname", "LIKE"]],
    [["hostname", "LIKE", "(("]],
    [["hostname", "UNLIKE", "[a-"]],
    [["hostname", "MAX_PER"]],
    [["hostname", "MAX_PER", "x"]],
    [["hostname", "MAX_PER", "0"]],
    [["hostname", "GROUP_BY", "-1"]],
    [["hostname", "IS"]],
    {"hostname": "UNIQUE"},
]


@pytest.mark.parametrize("constraints", BAD_CONSTRAINTS, ids=[json.dumps(c) for c in BAD_CONSTRAINTS])
def test_invalid_constraints_are_refused(sched, constraints):
    r = sched.post("/v2/apps", json=app("/constrained", constraints=constraints))
    assert r.status_code == 422, r.text
    assert any(d["path"].startswith("/constraints") for d in r.json()["details"]), r.text
    time.sleep(0.1)
    assert_alive(sched)
    assert app_ids(sched) == []


def test_valid_constraints_are_accepted(sched):
    good = [["hostname", "LIKE", "[a-z0-9.-]+"], ["hostname", "GROUP_BY"], ["hostname", "GROUP_BY", "2"],
            ["hostname", "MAX_PER", "2"], ["hostname", "UNLIKE", "nothere"]]
    sched.client.create_app("/constrained", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1,
                                                        constraints=good))
    sched.wait_running("/constrained", 1)
    assert sched.get("/v2/apps/constrained").json()["app"]["constraints"] == good


# ---- a stored app that does not validate -----------------------------------

def test_broken_stored_app_is_set_aside_and_deletable(sched):
    sched.client.create_app("/good", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1))
    sched.client.create_app("/bad", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1))
    sched.wait_running("/good", 1)
    bad_task = sched.wait_running("/bad", 1)[0]["id"]
    sched.wait_deployments()
    b = sched.berthd
    b.stop()
    db = sqlite3.connect(str(b.state_dir / "berth.db"))
    try:
        (text,) = db.execute("SELECT definition FROM apps WHERE id = '/bad'").fetchone()
        d = json.loads(text)
        d["instances"] = 2
        d["constraints"] = [[1, "UNIQUE"]]  # what crashed every start
        assert db.execute("UPDATE apps SET definition = ? WHERE id = '/bad'",
                          (json.dumps(d),)).rowcount == 1
        db.execute("INSERT INTO apps (id, definition, create_index, modify_index) VALUES (?, ?, 1, 1)",
                   ("/junk", '{"id": "/junk", "cmd": '))
        d2 = dict(d, id="/typed", constraints=[], cpus="lots", env={"A": {}})
        db.execute("INSERT INTO apps (id, definition, create_index, modify_index) VALUES (?, ?, 1, 1)",
                   ("/typed", json.dumps(d2)))
        db.commit()
    finally:
        db.close()
    b.start(b.extra_args)
    sched.wait_until(lambda: sched.get("/ping").status_code == 200, 10, "/ping")

    # the node comes up; the good app runs; the others are set aside
    sched.wait_running("/good", 1)
    listed = broken(sched)
    assert {("app", "/bad"), ("app", "/junk"), ("app", "/typed")} <= set(listed), listed
    assert "constraints" in listed[("app", "/bad")]
    assert app_ids(sched) == ["/good"]
    assert sched.tasks("/good")
    # the broken app's task is left running, not killed
    time.sleep(0.5)
    all_tasks = sched.get("/v2/tasks").json()["tasks"]
    assert [t["id"] for t in all_tasks if t["appId"] == "/bad"] == [bad_task]
    r = sched.get("/v2/apps/bad")
    assert r.status_code == 422 and "broken" in r.json()["message"], r.text
    assert "set aside" in b.stderr()
    time.sleep(0.5)
    assert_alive(sched)

    # DELETE removes a broken app; PUT replaces one
    r = sched.delete("/v2/apps/bad")
    assert r.status_code == 200, r.text
    sched.wait_until(lambda: not [t for t in sched.get("/v2/tasks").json()["tasks"] if t["appId"] == "/bad"],
                     15, "the broken app's task to be killed")
    r = sched.delete("/v2/apps/junk")
    assert r.status_code == 200, r.text
    r = sched.put("/v2/apps/typed", json={"cmd": SLEEP, "cpus": 0.01, "mem": 8, "instances": 0})
    assert r.status_code in (200, 201), r.text
    assert set(broken(sched)) & {("app", "/bad"), ("app", "/junk"), ("app", "/typed")} == set()
    assert sorted(app_ids(sched)) == ["/good", "/typed"]
    assert sched.get("/v2/apps/bad").status_code == 404

    # and the next start is clean
    b.restart()
    sched.wait_running("/good", 1)
    assert broken(sched) == {}
    assert_alive(sched)


# ---- odd JSON types anywhere in a definition -------------------------------

MALFORMED = [
    {"cmd": 5},
    {"cmd": None, "args": "sleep"},
    {"args": [1, 2]},
    {"args": [{}]},
    {"env": {"A": {}}},
    {"env": {"A": 1}},
    {"env": ["A=1"]},
    {"labels": [1]},
    {"labels": {"a": None}},
    {"portDefinitions": [{"port": "x"}]},
    {"portDefinitions": [{"port": 80, "protocol": 6}]},
    {"portDefinitions": [{"port": 80, "name": []}]},
    {"portDefinitions": [7]},
    {"portDefinitions": {"port": 1}},
    {"ports": ["80"]},
    {"ports": [1.5]},
    {"healthChecks": [7]},
    {"healthChecks": {"protocol": "HTTP"}},
    {"healthChecks": [{"protocol": 1}]},
    {"healthChecks": [{"protocol": "HTTP", "ignoreHttp1xx": {}}]},
    {"healthChecks": [{"protocol": "HTTP", "path": []}]},
    {"healthChecks": [{"protocol": "HTTP", "intervalSeconds": "5"}]},
    {"healthChecks": [{"protocol": "COMMAND", "command": "true"}]},
    {"healthChecks": [{"protocol": "COMMAND", "command": {"value": 1}}]},
    {"healthChecks": [{"protocol": "HTTP", "portIndex": "0"}]},
    {"container": []},
    {"container": {"type": 1, "docker": {"image": "x"}}},
    {"container": {"docker": []}},
    {"container": {"docker": {"image": 5}}},
    {"container": {"docker": {"image": "x", "network": {}}}},
    {"container": {"docker": {"image": "x", "forcePullImage": "yes"}}},
    {"container": {"docker": {"image": "x", "network": "BRIDGE", "portMappings": [{"containerPort": "80"}]}}},
    {"container": {"docker": {"image": "x", "network": "BRIDGE", "portMappings": [3]}}},
    {"container": {"docker": {"image": "x", "network": "BRIDGE", "portMappings": {}}}},
    {"upgradeStrategy": {"minimumHealthCapacity": "1"}},
    {"upgradeStrategy": []},
    {"instances": "3"},
    {"instances": 1.5},
    {"instances": -1},
    {"cpus": "1"},
    {"cpus": True},
    {"mem": []},
    {"disk": {}},
    {"backoffSeconds": "1"},
    {"taskKillGracePeriodSeconds": {}},
    {"constraints": [[1, "UNIQUE"]]},
    {"id": 5},
    {"id": {}},
    {"id": "/Upper/Case"},
    {"id": "/under_score"},
    {"id": "/-dash"},
]


def test_malformed_definitions_are_refused(sched):
    for extra in MALFORMED:
        body = app("/malformed", **extra)
        r = sched.post("/v2/apps", json=body)
        assert 400 <= r.status_code < 500 and r.status_code != 404, (extra, r.status_code, r.text)
        assert r.json()["message"], (extra, r.text)
    for raw in ([1], "x", None, 7, [{"id": "/a", "cmd": "x"}]):
        r = sched.post("/v2/apps", json=raw)
        assert 400 <= r.status_code < 500, (raw, r.status_code, r.text)
    assert_alive(sched)
    assert_no_criticals(sched)
    assert app_ids(sched) == []


def test_malformed_updates_and_groups_are_refused(sched):
    sched.client.create_app("/target", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=0))
    sched.wait_deployments()
    before = sched.get("/v2/apps/target").json()["app"]
    for extra in MALFORMED:
        extra = {k: v for k, v in extra.items() if k != "id"}
        if not extra:
            continue
        for method in ("PUT", "PATCH"):
            r = requests.request(method, sched.url + "/v2/apps/target?force=true", json=extra, timeout=10)
            assert r.status_code == 422, (method, extra, r.status_code, r.text)
        r = sched.post("/v2/groups", json={"id": "/grp", "apps": [app("/grp/a", **extra)]})
        assert r.status_code == 422, (extra, r.status_code, r.text)
    for group in ({"id": 5, "apps": [app("a")]}, {"id": "/grp", "apps": {}}, {"id": "/grp", "groups": [1]},
                  {"id": "/grp", "apps": [7]}, {"id": "/Grp", "apps": [app("a")]}):
        r = sched.post("/v2/groups", json=group)
        assert r.status_code == 422, (group, r.status_code, r.text)
    r = sched.put("/v2/groups/grp", json={"scaleBy": {}})
    assert r.status_code == 422, r.text
    r = sched.post("/v2/tasks/delete", json={"ids": [{}, 1, None]})
    assert r.status_code == 200, r.text
    assert_alive(sched)
    assert sched.get("/v2/apps/target").json()["app"] == before
    assert app_ids(sched) == ["/target"]
    # not a rollback (the version is no string): an update changing nothing
    r = sched.put("/v2/apps/target?force=true", json={"version": {}})
    assert r.status_code in (200, 422), r.text
    assert_alive(sched)
    assert_no_criticals(sched)


# ---- health checks out of range --------------------------------------------

HC = {"protocol": "HTTP", "path": "/", "portIndex": 0, "intervalSeconds": 5, "timeoutSeconds": 2,
      "gracePeriodSeconds": 10, "maxConsecutiveFailures": 3}

BAD_CHECKS = [
    ({"intervalSeconds": 0}, "/healthChecks(0)/intervalSeconds"),
    ({"intervalSeconds": -5}, "/healthChecks(0)/intervalSeconds"),
    ({"timeoutSeconds": 0}, "/healthChecks(0)/timeoutSeconds"),
    ({"gracePeriodSeconds": -1}, "/healthChecks(0)/gracePeriodSeconds"),
    ({"maxConsecutiveFailures": -1}, "/healthChecks(0)/maxConsecutiveFailures"),
    ({"portIndex": 1}, "/healthChecks(0)/portIndex"),
    ({"portIndex": -1}, "/healthChecks(0)/portIndex"),
    ({"protocol": "TCP", "portIndex": 3}, "/healthChecks(0)/portIndex"),
]


@pytest.mark.parametrize("change,path", BAD_CHECKS, ids=[json.dumps(c) for c, _ in BAD_CHECKS])
def test_health_check_values_out_of_range(sched, change, path):
    r = sched.post("/v2/apps", json=app("/checked", healthChecks=[dict(HC, **change)]))
    assert_invalid(r, path)
    assert app_ids(sched) == []


def test_health_check_port_index_needs_a_port(sched):
    r = sched.post("/v2/apps", json=app("/noports", portDefinitions=[], healthChecks=[HC]))
    assert_invalid(r, "/healthChecks(0)/portIndex")
    # with the real client: Marathon's error shape
    with pytest.raises(MarathonHttpError) as e:
        sched.client.create_app("/noports", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8,
                                                        health_checks=[MarathonHealthCheck(
                                                            protocol="TCP", port_index=3, interval_seconds=5)]))
    assert e.value.status_code == 422
    assert app_ids(sched) == []


def test_delete_while_health_checks_are_in_flight(sched):
    """Health checks in flight when their task and app go away must not
    touch freed state (their callbacks come later)."""
    checks = [{"protocol": "COMMAND", "command": {"value": "sleep 3"}, "intervalSeconds": 1,
               "timeoutSeconds": 5, "gracePeriodSeconds": 60},
              {"protocol": "TCP", "portIndex": 0, "intervalSeconds": 1, "timeoutSeconds": 5,
               "gracePeriodSeconds": 60}]
    r = sched.post("/v2/apps", json=app("/probed", instances=3, healthChecks=checks))
    assert r.status_code == 201, r.text
    sched.wait_running("/probed", 3)
    time.sleep(1.5)  # the COMMAND checks are running now
    assert sched.delete("/v2/apps/probed?force=true").status_code == 200
    sched.wait_until(lambda: sched.procs() == {}, 20, "the tasks to be gone")
    time.sleep(4)  # the checks' callbacks arrive
    assert_alive(sched)
    assert_no_criticals(sched)


# ---- sizes ---------------------------------------------------------------

def test_size_limits(sched):
    cases = [
        (dict(cmd="x" * (64 * 1024 + 1)), "/cmd"),
        (dict(cmd=None, args=["a"] * 4097), "/args"),
        (dict(cmd=None, args=["x" * 40000, "y" * 40000]), "/args"),
        (dict(labels={f"l{i}": "v" for i in range(513)}), "/labels"),
        (dict(env={f"E{i}": "v" for i in range(513)}), "/env"),
        (dict(env={"K" * 257: "v"}), None),
        (dict(labels={"k": "v" * (8 * 1024 + 1)}), "/labels(k)"),
        (dict(constraints=[["hostname", "LIKE", "a"]] * 513), "/constraints"),
        (dict(healthChecks=[HC] * 513), "/healthChecks"),
    ]
    for extra, path in cases:
        r = sched.post("/v2/apps", json=app("/sized", **extra))
        assert_invalid(r, path)
    # at the limits: accepted
    r = sched.post("/v2/apps", json=app("/sized", instances=0, cmd="x" * (64 * 1024),
                                        labels=dict({f"l{i}": "v" for i in range(511)}, big="v" * 8192),
                                        env={"K" * 256: "v"}))
    assert r.status_code == 201, r.text[:500]
    assert_alive(sched)


def test_limits_are_configurable(sched_factory, tmp_path):
    s = sched_factory(config(tmp_path, max_cmd_bytes=10, max_entries=2, min_mem_mb=16))
    assert_invalid(s.post("/v2/apps", json=app("/c", cmd="sleep 10000")), "/cmd")
    assert_invalid(s.post("/v2/apps", json=app("/c", labels={"a": "1", "b": "2", "c": "3"})), "/labels")
    assert_invalid(s.post("/v2/apps", json=app("/c", mem=8)), "/mem")
    assert s.post("/v2/apps", json=app("/c", cmd="sleep 99", mem=16, instances=0)).status_code == 201


def test_ids_and_instances_as_marathon(sched):
    for bad in ("/UPPER", "/a_b", "/a/-b", "/a/b-", "/a..b", "/" + "a" * 600, "/a b"):
        assert_invalid(sched.post("/v2/apps", json=app(bad)), "/id")
    assert_invalid(sched.post("/v2/apps", json=app("/neg", instances=-1)), "/instances")
    assert sched.post("/v2/apps", json=app("/a.b-c/d0", instances=0)).status_code == 201


def test_version_history_is_capped(sched_factory, tmp_path):
    s = sched_factory(config(tmp_path, max_versions=3))
    assert s.post("/v2/apps", json=app("/hist", instances=0)).status_code == 201
    seen = []
    for i in range(6):
        r = s.put("/v2/apps/hist?force=true", json={"env": {"N": str(i)}})
        assert r.status_code == 200, r.text
        seen.append(r.json()["version"])
    versions = s.get("/v2/apps/hist/versions").json()["versions"]
    assert versions == sorted(seen, reverse=True)[:3]
    # a dropped version is gone, a kept one can be rolled back to
    assert s.get(f"/v2/apps/hist/versions/{seen[0]}").status_code == 404
    assert s.get(f"/v2/apps/hist/versions/{seen[-2]}").json()["env"] == {"N": "4"}


def test_default_version_history_is_bounded(sched):
    assert sched.post("/v2/apps", json=app("/many", instances=0)).status_code == 201
    for i in range(55):
        assert sched.put("/v2/apps/many?force=true", json={"env": {"N": str(i)}}).status_code == 200
    assert len(sched.get("/v2/apps/many/versions").json()["versions"]) == 50


# ---- spawn storm -----------------------------------------------------------

@pytest.mark.parametrize("resources", [{"cpus": 0, "mem": 0}, {"cpus": 0, "mem": 8}, {"cpus": 0.001, "mem": 8},
                                       {"cpus": 0.01, "mem": 0}, {"cpus": 0.01, "mem": 1}])
def test_zero_resource_apps_are_refused(sched, resources):
    r = sched.post("/v2/apps", json=app("/storm", instances=100000, **resources))
    assert_invalid(r)
    paths = {d["path"] for d in r.json()["details"]}
    assert paths & {"/cpus", "/mem"}, paths
    time.sleep(0.3)
    assert sched.procs() == {}
    assert app_ids(sched) == []


def test_tasks_per_node_are_capped(sched_factory, tmp_path):
    s = sched_factory(config(tmp_path, max_tasks_per_node=5))
    assert s.post("/v2/apps", json=app("/capped", instances=8)).status_code == 201

    def queued():
        q = [i for i in s.get("/v2/queue").json()["queue"] if i["app"]["id"] == "/capped"]
        return q and "max_tasks_per_node" in q[0]["processedOffersSummary"]["rejectSummaryLastOffers"][0]["reason"] \
            and q
    item = s.wait_until(queued, 10, "/capped waiting in the queue")[0]
    assert item["count"] == 3
    s.wait_until(lambda: len(s.running("/capped")) == 5, 10, "5 running tasks")
    time.sleep(0.5)
    assert len(s.tasks("/capped")) == 5
    assert len(sleeps(s)) == 5


def test_large_app_starts_while_the_api_answers(sched_factory, tmp_path):
    """1000 instances of a real command: tasks are created in batches, GET
    and DELETE answer within a second while it starts (three under the
    sanitizers, whose forks are slow), and the DELETE stops it (no process
    is left)."""
    s = sched_factory(config(tmp_path, cpus=64, mem_mb=16384))
    n = 1000
    r = s.post("/v2/apps", json=app("/large", instances=n, mem=4))
    assert r.status_code == 201, r.text
    s.wait_until(lambda: len(sleeps(s)) >= 20, 20, "the first processes")

    t0 = time.monotonic()
    r = s.get("/v2/apps/large", timeout=5)
    t_get = time.monotonic() - t0
    assert r.status_code == 200
    created = r.json()["app"]["tasksStaged"] + r.json()["app"]["tasksRunning"]
    t0 = time.monotonic()
    r = requests.delete(s.url + "/v2/apps/large?force=true", timeout=5)
    t_delete = time.monotonic() - t0
    assert r.status_code == 200, r.text
    assert t_get < 1.0 * s.scale and t_delete < 1.0 * s.scale, (t_get, t_delete)
    assert created < n, "every task was created at once"

    # no launch after the DELETE; every process ends
    s.wait_until(lambda: s.procs() == {}, 60, "every task process to end", interval=0.5)
    assert s.get("/v2/tasks").json()["tasks"] == [] or all(
        t["appId"] != "/large" for t in s.get("/v2/tasks").json()["tasks"])
    assert_alive(s)
