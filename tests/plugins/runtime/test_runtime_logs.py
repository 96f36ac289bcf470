# SPDX-License-Identifier: LGPL-2.1-or-later
"""The runtime's log source end to end: a container's and an exec task's
output through /api/logs and /api/containers/:id/logs, followed as it is
written; an exec task's memory limit."""

import json
import time

import requests


def stream_lines(url, params, want, timeout):
    """The first `want` lines of a streamed answer, with when each came."""
    got = []
    with requests.get(url, params=params, stream=True, timeout=timeout) as r:
        assert r.status_code == 200, r.text
        for line in r.iter_lines():
            if not line:
                continue
            got.append((time.monotonic(), line.decode()))
            if len(got) == want:
                break
    return got


def wait_until(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_container_lines_followed_as_written(rt):
    scale = rt.b.TIME_SCALE
    ref = rt.registry.ref("base")
    rt.pull(ref)
    cid = rt.run(ref, cmd=["sh", "-c", "echo one; sleep 1; echo two >&2; sleep 1; echo three"])
    got = stream_lines(rt.url("/api/logs"), {"id": cid, "follow": "1"}, 3, 30 * scale)
    lines = [json.loads(text) for _, text in got]
    assert [line["message"] for line in lines] == ["one", "two", "three"]
    assert [line["stream"] for line in lines] == ["stdout", "stderr", "stdout"]
    assert all(line["container"] == cid for line in lines)
    assert lines[0]["offset"] == 0 and lines[1]["offset"] > lines[0]["offset"]
    # followed: the last line came when it was written, not all at the end
    assert got[2][0] - got[0][0] >= 1.0, got
    rt.wait(cid)
    # the text API, from the same source: whole, tailed, and followed once exited
    assert rt.logs(cid).splitlines() == ["one", "two", "three"]
    assert rt.logs(cid, tail="2").splitlines() == ["two", "three"]
    r = requests.get(rt.url(f"/api/containers/{cid}/logs"), params={"follow": "1"}, timeout=30 * scale)
    assert r.status_code == 200 and r.text.splitlines() == ["one", "two", "three"]
    # a replay from a time on
    since = lines[1]["@timestamp"]
    r = requests.get(rt.url("/api/logs"), params={"id": cid, "since": since}, timeout=30 * scale)
    assert [json.loads(x)["message"] for x in r.text.splitlines()] == ["two", "three"]
    assert requests.get(rt.url("/api/logs"), params={"id": "nope"}, timeout=10).status_code == 404


def test_exec_task_lines_followed_as_written(rt):
    scale = rt.b.TIME_SCALE
    url = rt.b.url
    r = requests.post(url + "/v2/apps", json={
        "id": "/talker", "cmd": "echo one; sleep 1; echo two >&2; sleep 1; echo three; sleep 600",
        "cpus": 0.01, "mem": 16, "instances": 1}, timeout=10)
    assert r.status_code == 201, r.text
    try:
        def running():
            tasks = requests.get(url + "/v2/apps/talker/tasks", timeout=10).json()["tasks"]
            return [t for t in tasks if t["state"] == "TASK_RUNNING"]
        [task] = wait_until(running, 20 * scale, "the task to run")
        got = stream_lines(url + "/api/logs", {"id": task["id"], "follow": "1"}, 3, 30 * scale)
        lines = [json.loads(text) for _, text in got]
        assert [line["message"] for line in lines] == ["one", "two", "three"]
        assert [line["stream"] for line in lines] == ["stdout", "stderr", "stdout"]
        assert all(line["task_id"] == task["id"] and line["app_id"] == "/talker" for line in lines)
        # every task's lines, from the start, in one subscription
        with requests.get(url + "/api/logs", params={"follow": "1"}, stream=True, timeout=30 * scale) as all_lines:
            seen = []
            for line in all_lines.iter_lines():
                if line:
                    seen.append(json.loads(line)["message"])
                if {"one", "two", "three"} <= set(seen):
                    break
    finally:
        requests.delete(url + "/v2/apps/talker", params={"force": "true"}, timeout=10)


def test_exec_task_memory_limit(rt):
    """An exec task with mem 16 that allocates more is killed by the OOM
    killer and fails with the reason (cgroup v1 memory controller here)."""
    scale = rt.b.TIME_SCALE
    url = rt.b.url
    r = requests.post(url + "/v2/apps", json={
        "id": "/hog", "cmd": "x=a; while true; do x=$x$x; done",
        "cpus": 0.01, "mem": 16, "instances": 1, "backoffSeconds": 60}, timeout=10)
    assert r.status_code == 201, r.text
    try:
        def failed():
            app = requests.get(url + "/v2/apps/hog", timeout=10).json()["app"]
            return app.get("lastTaskFailure")
        failure = wait_until(failed, 60 * scale, "the task to be killed")
        assert failure["state"] == "TASK_FAILED", failure
        assert "Out of memory" in failure["message"], failure
    finally:
        requests.delete(url + "/v2/apps/hog", params={"force": "true"}, timeout=10)
