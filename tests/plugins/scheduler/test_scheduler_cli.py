# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth app|task|deploy|events against a berthd with the scheduler."""

import json
import subprocess
import time
import threading


def test_app_lifecycle_with_the_cli(sched, run_cli, tmp_path):
    b = sched.berthd
    app = tmp_path / "app.json"
    app.write_text(json.dumps({"id": "/cli/app", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8,
                               "instances": 2}))
    rc, out, err = run_cli(["app", "deploy", app], berthd=b)
    assert rc == 0, err
    assert "Created /cli/app" in out
    sched.wait_running("/cli/app", 2)
    sched.wait_deployments("/cli/app")

    rc, out, err = run_cli(["app", "ls"], berthd=b)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "INSTANCES", "RUNNING"]
    assert lines[1].split()[:3] == ["/cli/app", "2", "2"]

    rc, out, err = run_cli(["--json", "app", "show", "cli/app"], berthd=b)
    assert rc == 0, err
    assert json.loads(out)["app"]["instances"] == 2

    rc, out, err = run_cli(["app", "show", "/cli/app"], berthd=b)
    assert rc == 0 and "TASK_RUNNING" in out

    rc, out, err = run_cli(["app", "scale", "/cli/app", "3"], berthd=b)
    assert rc == 0, err
    assert "deployment" in out
    sched.wait_running("/cli/app", 3)
    sched.wait_deployments("/cli/app")

    rc, out, err = run_cli(["task", "ls", "/cli/app"], berthd=b)
    assert rc == 0, err
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert len(ids) == 3

    rc, out, err = run_cli(["task", "kill", "--scale", ids[0]], berthd=b)
    assert rc == 0, err
    assert f"Killing {ids[0]}" in out
    sched.wait_running("/cli/app", 2)
    assert sched.client.get_app("/cli/app").instances == 2

    rc, out, err = run_cli(["--json", "task", "ls"], berthd=b)
    assert rc == 0 and len(json.loads(out)["tasks"]) == 2

    # deploy again with a change: an update
    app.write_text(json.dumps({"id": "/cli/app", "cmd": "sleep 999", "cpus": 0.01, "mem": 8,
                               "instances": 2}))
    rc, out, err = run_cli(["app", "deploy", app], berthd=b)
    assert rc == 0, err
    assert out.startswith("Updated /cli/app")
    rc, out, err = run_cli(["deploy", "ls"], berthd=b)
    assert rc == 0
    sched.wait_deployments("/cli/app")

    rc, out, err = run_cli(["app", "restart", "/cli/app"], berthd=b)
    assert rc == 0, err
    sched.wait_deployments("/cli/app")

    rc, out, err = run_cli(["app", "rm", "/cli/app"], berthd=b)
    assert rc == 0, err
    rc, out, err = run_cli(["app", "show", "/cli/app"], berthd=b)
    assert rc == 1
    assert "does not exist" in err

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "/BAD", "cmd": "true"}))
    rc, out, err = run_cli(["app", "deploy", bad], berthd=b)
    assert rc == 1 and "not valid" in err


def test_deploy_cancel_with_the_cli(sched, run_cli):
    b = sched.berthd
    r = sched.post("/v2/apps", json={"id": "/slow", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8,
                                     "instances": 1,
                                     "healthChecks": [{"protocol": "COMMAND", "command": {"value": "false"},
                                                       "gracePeriodSeconds": 60, "intervalSeconds": 1}]})
    assert r.status_code == 201
    dep = r.json()["deployments"][0]["id"]
    rc, out, err = run_cli(["deploy", "ls"], berthd=b)
    assert rc == 0 and dep in out and "/slow" in out
    rc, out, err = run_cli(["deploy", "cancel", dep], berthd=b)
    assert rc == 0, err
    assert "Rolling back" in out
    # rolling back a creation removes the app
    sched.wait_until(lambda: sched.get("/v2/apps/slow").status_code == 404, 10, "the app to go")
    sched.wait_deployments(timeout=15)


def test_events_command(sched, berth_env):
    env = berth_env.child_env({"BERTH_HTTP_ADDR": sched.berthd.http_addr})
    lines = []
    with subprocess.Popen([str(berth_env.berth), "events"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, text=True) as p:
        def read():
            for line in p.stdout:
                lines.append(line.rstrip("\n"))
        t = threading.Thread(target=read, daemon=True)
        t.start()
        try:
            sched.wait_until(lambda: sched.get("/v2/events", stream=True, timeout=2).status_code == 200,
                             5, "the event stream")
            time.sleep(0.5)
            r = sched.post("/v2/apps", json={"id": "/ev", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8})
            assert r.status_code == 201
            sched.wait_until(lambda: any(" deployment_success " in x for x in lines), 15,
                             "deployment_success from berth events")
        finally:
            p.terminate()
            t.join(5)
    kinds = [x.split()[1] for x in lines if len(x.split()) > 1]
    assert kinds[0] == "api_post_event"
    assert "status_update_event" in kinds
    assert any("/ev" in x for x in lines if " api_post_event " in x)
