# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the scheduler plugin's tests (Marathon API, task executor).

  sched         a berthd with the scheduler and runtime plugins; helpers:
                .client (marathon.MarathonClient), .url, .get/.post/... (requests),
                .wait_until(fn, timeout, what), .tasks(app_id),
                .running(app_id), .task_pid(task_id), .wait_running(app_id, n),
                .wait_deployments(app_id)
  task_procs    pids of the task processes under a state dir
  registry      the runtime tests' local image registry (container apps)

Task processes outlive berthd on purpose (a restarted berthd adopts them);
every process started for a test's tasks is killed at teardown.
"""

import importlib.util
import os
import signal
import time
from pathlib import Path

import pytest
import requests

marathon = pytest.importorskip("marathon", reason="python3-marathon is not installed")

OTHER_PLUGINS = ("monitoring", "security")

# The container tests use the runtime tests' image registry (session
# fixtures `oci_tools`, `test_images`, `registry`), loaded from their file.
_RUNTIME_CONFTEST = Path(__file__).resolve().parent.parent / "runtime" / "conftest.py"
if _RUNTIME_CONFTEST.exists():
    _spec = importlib.util.spec_from_file_location("berth_runtime_fixtures", _RUNTIME_CONFTEST)
    _runtime = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_runtime)
    oci_tools = _runtime.oci_tools
    test_images = _runtime.test_images
    registry = _runtime.registry


def task_procs(state_dir):
    """{pid: cmdline} of the processes started for tasks under state_dir."""
    marker = f"MESOS_SANDBOX={Path(state_dir) / 'runtime' / 'tasks'}".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if any(v.startswith(marker) for v in env.split(b"\0")):
            found[int(entry)] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def kill_task_procs(state_dir):
    for pid in task_procs(state_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class Sched:
    def __init__(self, berthd):
        self.berthd = berthd
        self.url = berthd.url
        self.client = marathon.MarathonClient(berthd.url, timeout=10,
                                              auth_token=berthd.token)
        self.scale = berthd.TIME_SCALE

    def get(self, path, timeout=10, **kw):
        return requests.get(self.url + path, timeout=timeout, **kw)

    def post(self, path, **kw):
        return requests.post(self.url + path, timeout=10, **kw)

    def put(self, path, **kw):
        return requests.put(self.url + path, timeout=10, **kw)

    def delete(self, path, **kw):
        return requests.delete(self.url + path, timeout=10, **kw)

    def wait_until(self, fn, timeout=10, what="the condition", interval=0.1):
        deadline = time.monotonic() + timeout * self.scale
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(interval)
        pytest.fail(f"timed out waiting for {what} (last: {last!r})", pytrace=False)

    def tasks(self, app_id):
        r = self.get(f"/v2/apps{app_id}/tasks")
        assert r.status_code == 200, r.text
        return r.json()["tasks"]

    def running(self, app_id):
        return [t for t in self.tasks(app_id) if t["state"] == "TASK_RUNNING"]

    def wait_running(self, app_id, n, timeout=15):
        def check():
            tasks = self.tasks(app_id)
            ok = len(tasks) == n and all(t["state"] == "TASK_RUNNING" for t in tasks)
            return tasks if ok else None
        return self.wait_until(check, timeout, f"{n} running tasks of {app_id}")

    def wait_deployments(self, app_id=None, timeout=15):
        def check():
            deps = self.get("/v2/deployments").json()
            if app_id is not None:
                deps = [d for d in deps if app_id in d["affectedApps"]]
            return deps == []
        self.wait_until(check, timeout, f"the deployments of {app_id or 'every app'} to finish")

    def task_pid(self, task_id):
        """The pid of the task's command (its process group leader)."""
        pid_file = self.berthd.state_dir / "runtime" / "tasks" / task_id / "pid"
        return int(pid_file.read_text())

    def procs(self):
        return task_procs(self.berthd.state_dir)


SCRIPT_CHECKS_CONFIG = "[berthd]\nenable_script_checks=true\n"


@pytest.fixture
def sched_factory(berthd_factory, tmp_path):
    made = []

    def make(extra_args=()):
        args = list(extra_args)
        if "--config" not in args:
            # the tests run COMMAND health checks of exec apps on the host
            conf = tmp_path / f"sched-{len(made)}.conf"
            conf.write_text(SCRIPT_CHECKS_CONFIG)
            args += ["--config", str(conf)]
        for plugin in OTHER_PLUGINS:
            args += ["--disable-plugin", plugin]
        b = berthd_factory(extra_args=args)
        s = Sched(b)
        made.append(s)
        s.wait_until(lambda: s.get("/ping").status_code == 200, 10, "/ping")
        return s

    yield make
    for s in made:
        kill_task_procs(s.berthd.state_dir)


@pytest.fixture
def sched(sched_factory):
    return sched_factory()
