# SPDX-License-Identifier: LGPL-2.1-or-later
"""Marathon apps of exec tasks, driven with python3-marathon unchanged:
create, scale up and down, failures and backoff, validation, restarts."""

import os
import signal
import time
from datetime import datetime

import pytest
from marathon import MarathonApp
from marathon.exceptions import MarathonHttpError, NotFoundError

SLEEP = "sleep 1000"


def parse_ts(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def proc_env(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        items = f.read().split(b"\0")
    return dict(i.decode().split("=", 1) for i in items if b"=" in i)


def test_ping_info_leader(sched):
    assert sched.get("/ping").text == "pong"
    info = sched.client.get_info()
    assert info.name == "berth"
    assert info.leader
    assert isinstance(info.marathon_config, object)
    raw = sched.get("/v2/info").json()
    for key in ("name", "version", "frameworkId", "leader", "http_config",
                "marathon_config", "zookeeper_config"):
        assert key in raw
    assert sched.get("/v2/leader").json()["leader"] == raw["leader"]
    assert sched.client.list_apps() == []
    assert sched.client.list_tasks() == []


def test_create_scale_up_and_down(sched):
    app = sched.client.create_app("/web/sleepy", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=3))
    assert app.id == "/web/sleepy"
    assert app.instances == 3
    tasks = sched.wait_running("/web/sleepy", 3)
    first = {t["id"] for t in tasks}
    for t in tasks:
        assert t["id"].startswith("web_sleepy.")
        assert len(t["ports"]) == 1 and 10000 <= t["ports"][0] <= 20000
        assert t["startedAt"].endswith("Z")
        env = proc_env(sched.task_pid(t["id"]))
        assert env["MESOS_TASK_ID"] == t["id"]
        assert env["MARATHON_APP_ID"] == "/web/sleepy"
        assert env["PORT0"] == env["PORT"] == str(t["ports"][0])
        assert env["PORTS"] == str(t["ports"][0])
        assert env["HOST"] == "127.0.0.1"
        assert env["MARATHON_APP_VERSION"] == t["version"]
    assert len({t["ports"][0] for t in tasks}) == 3
    sched.wait_deployments("/web/sleepy")

    # list, with and without embedded tasks
    apps = sched.client.list_apps(embed_tasks=True)
    assert [a.id for a in apps] == ["/web/sleepy"]
    assert {t.id for t in apps[0].tasks} == first
    assert apps[0].tasks_running == 3
    assert {t.id for t in sched.client.list_tasks()} == first
    assert {t.id for t in sched.client.list_tasks("/web/sleepy")} == first

    result = sched.client.scale_app("/web/sleepy", 5)
    assert result["deploymentId"] and result["version"]
    tasks = sched.wait_running("/web/sleepy", 5)
    sched.wait_deployments("/web/sleepy")
    assert first < {t["id"] for t in tasks}
    # a scale is not a config change: the versions of the first tasks stay
    app = sched.client.get_app("/web/sleepy")
    assert app.instances == 5
    assert app.version_info.last_config_change_at < app.version_info.last_scaling_at

    pids = {t["id"]: sched.task_pid(t["id"]) for t in tasks}
    sched.client.scale_app("/web/sleepy", 1)
    tasks = sched.wait_running("/web/sleepy", 1)
    # the newest are killed first: the one left is one of the first three
    assert tasks[0]["id"] in first
    sched.wait_deployments("/web/sleepy")

    def gone():
        return all(not os.path.exists(f"/proc/{pid}") for tid, pid in pids.items()
                   if tid != tasks[0]["id"])
    sched.wait_until(gone, 10, "the killed task processes to exit")
    assert os.path.exists(f"/proc/{pids[tasks[0]['id']]}")


def test_killed_task_is_replaced_with_backoff(sched):
    sched.client.create_app("/crashy", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=2,
                                                   backoff_seconds=2, backoff_factor=2,
                                                   max_launch_delay_seconds=30))
    tasks = sched.wait_running("/crashy", 2)
    sched.wait_deployments("/crashy")
    victim = tasks[0]
    killed_at = datetime.utcnow()
    os.killpg(sched.task_pid(victim["id"]), signal.SIGKILL)

    def replaced():
        now = sched.running("/crashy")
        ids = {t["id"] for t in now}
        return now if len(now) == 2 and victim["id"] not in ids else None
    now = sched.wait_until(replaced, 15, "a replacement task")
    new = [t for t in now if t["id"] != tasks[1]["id"]][0]
    delay = (parse_ts(new["stagedAt"]) - killed_at).total_seconds()
    assert delay >= 1.5, f"relaunched after {delay:.2f}s, backoffSeconds is 2"
    app = sched.client.get_app("/crashy")
    failure = app.last_task_failure
    assert failure.task_id == victim["id"]
    assert failure.state == "TASK_FAILED"
    assert "signal 9" in failure.message

    # a second failure waits backoffSeconds * backoffFactor
    killed_at = datetime.utcnow()
    os.killpg(sched.task_pid(new["id"]), signal.SIGKILL)

    def replaced_again():
        now = sched.running("/crashy")
        return now if len(now) == 2 and new["id"] not in {t["id"] for t in now} else None
    again = sched.wait_until(replaced_again, 20, "a second replacement")
    newest = [t for t in again if t["id"] != tasks[1]["id"]][0]
    delay = (parse_ts(newest["stagedAt"]) - killed_at).total_seconds()
    assert delay >= 3.5, f"relaunched after {delay:.2f}s, the backoff is now 4s"


def test_task_that_exits_is_reported_and_relaunched(sched):
    r = sched.post("/v2/apps", json={"id": "/flaky", "cmd": "exit 3", "cpus": 0.01, "mem": 8,
                                     "instances": 1, "backoffSeconds": 0.2})
    assert r.status_code == 201, r.text

    def failed():
        app = sched.get("/v2/apps/flaky").json()["app"]
        return app.get("lastTaskFailure")
    failure = sched.wait_until(failed, 10, "lastTaskFailure")
    assert failure["state"] == "TASK_FAILED"
    assert "status 3" in failure["message"]
    assert failure["appId"] == "/flaky"
    first = failure["taskId"]
    sched.wait_until(lambda: failed()["taskId"] != first, 10, "a relaunched task to fail too")


@pytest.mark.parametrize("body,path", [
    ({"cmd": SLEEP}, "/id"),
    ({"id": "/Bad_Name", "cmd": SLEEP}, "/id"),
    ({"id": "/ok"}, "/"),
    ({"id": "/ok", "cmd": SLEEP, "args": ["x"]}, "/"),
    ({"id": "/ok", "cmd": SLEEP, "instances": -1}, "/instances"),
    ({"id": "/ok", "cmd": SLEEP, "instances": "three"}, "/instances"),
    ({"id": "/ok", "cmd": SLEEP, "mem": -5}, "/mem"),
    ({"id": "/ok", "cmd": SLEEP, "env": {"A": 1}}, "/env(A)"),
    ({"id": "/ok", "cmd": SLEEP, "upgradeStrategy": {"minimumHealthCapacity": 2}},
     "/upgradeStrategy/minimumHealthCapacity"),
    ({"id": "/ok", "cmd": SLEEP, "healthChecks": [{"protocol": "SMOKE"}]}, "/healthChecks(0)/protocol"),
    ([1, 2], "/"),
])
def test_bad_app_is_422_and_nothing_stored(sched, body, path):
    r = sched.post("/v2/apps", json=body)
    assert r.status_code == 422, r.text
    reply = r.json()
    assert reply["message"]
    assert path in [d["path"] for d in reply["details"]], reply
    for d in reply["details"]:
        assert isinstance(d["errors"], list) and d["errors"]
    assert sched.get("/v2/apps").json() == {"apps": []}
    assert sched.get("/v2/deployments").json() == []


def test_bad_app_through_the_client(sched):
    with pytest.raises(MarathonHttpError) as e:
        sched.client.create_app("/ok", MarathonApp(cmd=SLEEP, instances=-2))
    assert e.value.status_code == 422
    assert sched.client.list_apps() == []
    r = sched.post("/v2/apps", data="{not json")
    assert r.status_code == 400
    # an update with bad values changes nothing either
    sched.client.create_app("/good", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1))
    sched.wait_deployments("/good")
    before = sched.get("/v2/apps/good").json()["app"]
    r = sched.put("/v2/apps/good", json={"cpus": -1})
    assert r.status_code == 422
    assert sched.get("/v2/apps/good").json()["app"]["version"] == before["version"]


def test_duplicate_and_missing_apps(sched):
    sched.client.create_app("/dup", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=0))
    r = sched.post("/v2/apps", json={"id": "/dup", "cmd": SLEEP})
    assert r.status_code == 409
    with pytest.raises(NotFoundError):
        sched.client.get_app("/nope")
    assert sched.delete("/v2/apps/nope").status_code == 404
    assert sched.get("/v2/apps/nope/tasks").status_code == 404


def test_kill_task_with_scale_and_delete_app(sched):
    sched.client.create_app("/killme", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=3))
    tasks = sched.wait_running("/killme", 3)
    sched.wait_deployments("/killme")
    victim = tasks[1]["id"]
    pid = sched.task_pid(victim)
    killed = sched.client.kill_task("/killme", victim, scale=True)
    assert killed.id == victim
    sched.wait_running("/killme", 2)
    assert victim not in {t["id"] for t in sched.tasks("/killme")}
    assert sched.client.get_app("/killme").instances == 2
    sched.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the task process to exit")

    # without scale the task is replaced
    other = sched.tasks("/killme")[0]["id"]
    sched.client.kill_task("/killme", other)
    sched.wait_until(lambda: len(sched.running("/killme")) == 2 and
                     other not in {t["id"] for t in sched.tasks("/killme")}, 10, "a replacement")

    result = sched.client.delete_app("/killme")
    assert result["deploymentId"]
    with pytest.raises(NotFoundError):
        sched.client.get_app("/killme")
    sched.wait_deployments()
    sched.wait_until(lambda: sched.procs() == {}, 10, "every task process to exit")
    assert sched.client.list_tasks() == []


def test_graceful_kill_escalates_to_sigkill(sched):
    # the command ignores SIGTERM: after taskKillGracePeriodSeconds it gets SIGKILL
    cmd = "trap '' TERM; while :; do sleep 0.1; done"
    r = sched.post("/v2/apps", json={"id": "/stubborn", "cmd": cmd, "cpus": 0.01, "mem": 8,
                                     "instances": 1, "taskKillGracePeriodSeconds": 1})
    assert r.status_code == 201
    tasks = sched.wait_running("/stubborn", 1)
    sched.wait_deployments("/stubborn")
    pid = sched.task_pid(tasks[0]["id"])
    start = time.monotonic()
    assert sched.delete("/v2/apps/stubborn").status_code == 200
    sched.wait_until(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the task to be killed")
    assert time.monotonic() - start >= 0.9


def test_kill9_berthd_adopts_tasks(sched):
    sched.client.create_app("/durable", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=3))
    tasks = sched.wait_running("/durable", 3)
    sched.wait_deployments("/durable")
    pids = {t["id"]: sched.task_pid(t["id"]) for t in tasks}
    procs_before = sched.procs()
    sched.berthd.kill9()
    # a task that ends while berthd is down is reported when it is back
    dead = tasks[0]["id"]
    os.killpg(pids[dead], signal.SIGKILL)
    time.sleep(0.3)
    sched.berthd.start(extra_args=sched.berthd.extra_args)
    sched.wait_until(lambda: sched.get("/ping").status_code == 200, 10, "/ping")
    now = sched.wait_running("/durable", 3, timeout=20)
    ids = {t["id"] for t in now}
    assert dead not in ids
    assert set(pids) - {dead} <= ids
    for tid in set(pids) - {dead}:
        assert sched.task_pid(tid) == pids[tid]
    app = sched.client.get_app("/durable")
    assert app.last_task_failure is not None and app.last_task_failure.task_id == dead
    time.sleep(1)
    # exactly one `sleep` per task: nothing was started twice
    sleeps = [c for c in sched.procs().values() if c.startswith("sleep")]
    assert len(sleeps) == 3, (sleeps, procs_before)
    assert len(sched.tasks("/durable")) == 3


def test_restart_replaces_every_task(sched):
    sched.client.create_app("/restartme", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=2))
    tasks = sched.wait_running("/restartme", 2)
    sched.wait_deployments("/restartme")
    result = sched.client.restart_app("/restartme")
    assert result["deploymentId"]
    sched.wait_deployments("/restartme")
    now = sched.wait_running("/restartme", 2)
    assert not ({t["id"] for t in now} & {t["id"] for t in tasks})
    versions = sched.client.list_versions("/restartme")
    assert len(versions) == 2


def test_versions_and_rollback_to_a_version(sched):
    sched.client.create_app("/versioned", MarathonApp(cmd="sleep 999", cpus=0.01, mem=8, instances=1))
    sched.wait_deployments("/versioned")
    v1 = sched.client.get_app("/versioned").version
    sched.client.update_app("/versioned", MarathonApp(cmd="sleep 998", cpus=0.01, mem=8, instances=1))
    sched.wait_deployments("/versioned")
    assert sched.client.get_app("/versioned").cmd == "sleep 998"
    old = sched.client.get_version("/versioned", v1)
    assert old.cmd == "sleep 999"
    sched.client.rollback_app("/versioned", v1)
    sched.wait_deployments("/versioned")
    assert sched.client.get_app("/versioned").cmd == "sleep 999"
    tasks = sched.wait_running("/versioned", 1)
    assert "sleep 999" in " ".join(sched.procs().values())
    assert tasks


def test_not_built_parts_answer_501(sched):
    r = sched.get("/v2/pods/x")
    assert r.status_code == 501 and "not implemented" in r.json()["message"]
    assert "/v2/pods" in r.json()["message"]
    r = sched.get("/v2/pods")
    assert r.status_code == 501 and "/v2/pods" in r.json()["message"]


def test_kill9_berthd_during_a_deployment(sched):
    check = {"protocol": "COMMAND", "command": {"value": "true"}, "gracePeriodSeconds": 30,
             "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3}
    r = sched.post("/v2/apps", json={"id": "/midway", "cmd": SLEEP, "cpus": 0.01, "mem": 8,
                                     "instances": 5, "healthChecks": [check]})
    assert r.status_code == 201
    dep = r.json()["deployments"][0]["id"]
    time.sleep(0.05)
    sched.berthd.kill9()
    sched.berthd.start(extra_args=sched.berthd.extra_args)
    sched.wait_until(lambda: sched.get("/ping").status_code == 200, 10, "/ping")
    assert dep in [d["id"] for d in sched.get("/v2/deployments").json()] or \
        sched.get("/v2/apps/midway").json()["app"]["tasksHealthy"] == 5
    sched.wait_deployments("/midway", timeout=30)
    tasks = sched.wait_running("/midway", 5)
    assert sched.get("/v2/apps/midway").json()["app"]["tasksHealthy"] == 5
    time.sleep(1)
    sleeps = [c for c in sched.procs().values() if c.startswith("sleep")]
    assert len(sleeps) == 5, sleeps
    assert len(sched.tasks("/midway")) == 5
    assert {t["id"] for t in tasks} == {t["id"] for t in sched.tasks("/midway")}


def test_quick_updates_get_distinct_versions(sched):
    r = sched.post("/v2/apps", json={"id": "/quick", "cmd": SLEEP, "cpus": 0.01, "mem": 8, "instances": 0})
    assert r.status_code == 201
    seen = {r.json()["version"]}
    for i in range(5):
        r = sched.put("/v2/apps/quick?force=true", json={"env": {"N": str(i)}})
        assert r.status_code == 200, r.text
        seen.add(r.json()["version"])
    assert len(seen) == 6
    versions = sched.get("/v2/apps/quick/versions").json()["versions"]
    assert len(versions) == 6 and versions == sorted(versions, reverse=True)


def test_host_ports_held_by_others_are_skipped(sched):
    """A host port some other program listens on is never given to a task
    (it could not bind it, and its health checks would probe the other
    program)."""
    import socket
    held = []
    try:
        # the pool hands ports out from 10000 on: hold the first ones
        for port in range(10000, 10010):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(1)
                held.append((port, s))
            except OSError:
                s.close()  # somebody else holds it already: just as good
        assert held, "could not hold any port of the pool"
        sched.client.create_app("/ported", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=3))
        tasks = sched.wait_running("/ported", 3)
        given = {t["ports"][0] for t in tasks}
        assert not given & {p for p, _ in held}, (given, [p for p, _ in held])
    finally:
        for _, s in held:
            s.close()


def test_leader_abdication_is_an_admin_call(sched_factory, berth_env):
    """DELETE /v2/leader (marathon-python's delete_leader): the one
    instance steps down and leads again; it is an operator write, served in
    the admin zone only."""
    import marathon
    port = berth_env.free_port()
    s = sched_factory(extra_args=["--listen", f"admin=127.0.0.1:{port}"])
    leader = s.client.get_leader()["leader"]
    # not on the private listener
    assert s.delete("/v2/leader").status_code == 404
    admin = marathon.MarathonClient(f"http://127.0.0.1:{port}", timeout=10,
                                    auth_token=s.berthd.token)
    assert admin.delete_leader() == {"message": "Leadership abdicated"}
    # and leads again (each listener names the leader as it is reached)
    assert admin.get_leader()["leader"] == f"127.0.0.1:{port}"
    assert s.client.get_leader()["leader"] == leader
