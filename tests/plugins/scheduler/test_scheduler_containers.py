# SPDX-License-Identifier: LGPL-2.1-or-later
"""Container apps: an image from the local test registry, bridge network
with a port mapping, an HTTP health check through the mapped port."""

import time

import os

import pytest
import requests


def http_get(port, timeout=15):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return requests.get(f"http://127.0.0.1:{port}/index.html", timeout=2)
        except requests.RequestException as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port}: {last}")


@pytest.fixture
def oci_sched(sched, oci_tools, registry):
    info = sched.get("/api/runtime").json()
    if info["Kind"] != "oci":
        reason = f"no usable OCI runtime here: {info['Why']}"
        if os.environ.get("BERTH_REQUIRE_CONTAINERS", "") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    yield sched
    # no container may be left behind
    for c in sched.get("/api/containers", params={"all": "1"}).json():
        sched.delete(f"/api/containers/{c['Id']}", params={"force": "1"})


def test_container_app_with_port_mapping(oci_sched, registry):
    sched = oci_sched
    body = {
        "id": "/boxed/web",
        "container": {"type": "DOCKER", "docker": {
            "image": registry.ref("base"), "network": "BRIDGE",
            "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]}},
        "cmd": "exec httpd -f -p 80 -h /www",
        "cpus": 0.1, "mem": 32, "instances": 2,
        "healthChecks": [{"protocol": "HTTP", "path": "/index.html", "portIndex": 0,
                          "gracePeriodSeconds": 30, "intervalSeconds": 1, "timeoutSeconds": 2,
                          "maxConsecutiveFailures": 3}],
    }
    r = sched.post("/v2/apps", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["container"]["docker"]["portMappings"][0]["containerPort"] == 80
    tasks = sched.wait_running("/boxed/web", 2, timeout=90)
    ports = [t["ports"][0] for t in tasks]
    assert len(set(ports)) == 2
    for port in ports:
        reply = http_get(port)
        assert reply.status_code == 200 and reply.text == "hello from berth\n"
    sched.wait_deployments("/boxed/web", timeout=30)
    app = sched.client.get_app("/boxed/web")
    assert app.container.docker.image == registry.ref("base")
    assert app.tasks_healthy == 2
    containers = sched.get("/api/containers").json()
    assert sorted(c["Name"] for c in containers) == sorted(f"task-{t['id']}" for t in tasks)
    assert all(c["Running"] for c in containers)

    # a container that dies is replaced
    victim = tasks[0]
    cid = [c["Id"] for c in containers if c["Name"] == f"task-{victim['id']}"][0]
    assert sched.post(f"/api/containers/{cid}/kill").status_code in (200, 204)
    sched.wait_until(lambda: victim["id"] not in {t["id"] for t in sched.running("/boxed/web")}
                     and len(sched.running("/boxed/web")) == 2, 60, "a replacement container")
    assert sched.client.get_app("/boxed/web").last_task_failure.task_id == victim["id"]

    sched.wait_deployments("/boxed/web", timeout=30)
    sched.client.delete_app("/boxed/web")
    sched.wait_until(lambda: sched.get("/api/containers", params={"all": "1"}).json() == [], 60,
                     "every task container to be removed")
    sched.wait_until(lambda: sched.client.list_tasks() == [], 30, "every task to go")
