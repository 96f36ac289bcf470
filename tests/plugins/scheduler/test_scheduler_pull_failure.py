# SPDX-License-Identifier: LGPL-2.1-or-later
"""A container app whose image cannot be pulled: the failed pull is a
failed task (as Marathon reports it), never a crash of berthd, and berthd
comes up again on the same store. A task stopped while its image is
being pulled gets no container."""

import http.server
import socketserver
import threading
import time
import urllib.error
import urllib.request

import pytest


def _last_failure(sched, app_id):
    r = sched.get(f"/v2/apps{app_id}")
    if r.status_code != 200:
        return None
    return r.json()["app"].get("lastTaskFailure")


@pytest.mark.parametrize("image", ["localhost/fake_docker_url", "127.0.0.1:1/no/such:tag"])
def test_unpullable_image_is_a_failed_task(sched, image):
    app_id = "/unpullable"
    r = sched.post("/v2/apps", json={
        "id": app_id, "cpus": 0.1, "mem": 16, "instances": 1, "cmd": "sleep 600",
        "container": {"type": "DOCKER", "docker": {"image": image}}})
    assert r.status_code == 201, r.text

    failure = sched.wait_until(lambda: _last_failure(sched, app_id), 30,
                               "the app's lastTaskFailure")
    assert sched.berthd.running, sched.berthd.stderr()[-3000:]
    assert failure["state"] == "TASK_FAILED"
    assert failure["appId"] == app_id
    assert image in failure["message"] and "pull" in failure["message"].lower(), failure
    # the real client reads it too
    last = sched.client.get_app(app_id).last_task_failure
    assert last.state == "TASK_FAILED"
    assert last.message == failure["message"]
    # the scheduler keeps trying (with backoff) and berthd stays up
    sched.wait_until(lambda: _last_failure(sched, app_id)["taskId"] != failure["taskId"], 30,
                     "a second launch attempt")
    assert sched.get("/ping").status_code == 200

    # the app is stored: a restarted berthd must come up with it
    sched.berthd.restart()
    assert sched.get("/ping").status_code == 200
    sched.wait_until(lambda: (_last_failure(sched, app_id) or {}).get("state") == "TASK_FAILED",
                     30, "a failed task after the restart")
    assert sched.berthd.running

    # its deployment never finishes: DELETE it as a user would, with force
    sched.client.delete_app(app_id, force=True)
    sched.wait_until(lambda: sched.get(f"/v2/apps{app_id}").status_code == 404, 15,
                     "the app to be deleted")
    assert sched.get("/api/containers", params={"all": "1"}).json() == []
    assert sched.berthd.running


class _SlowProxy(http.server.BaseHTTPRequestHandler):
    """The test registry, with manifests served after a delay."""

    upstream = None
    delay = 3.0

    def log_message(self, *args):
        pass

    def do_GET(self):
        if "/manifests/" in self.path:
            time.sleep(self.delay)
        req = urllib.request.Request(f"http://{self.upstream}{self.path}",
                                     headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                data, status, headers = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            data, status, headers = e.read(), e.code, e.headers
        self.send_response(status)
        for h in ("Content-Type", "Docker-Content-Digest"):
            if headers.get(h):
                self.send_header(h, headers[h])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def test_app_deleted_while_its_image_is_pulled(sched, oci_tools, registry):
    """The task is stopped while its pull is in flight: when the pull
    returns, no container is made for it."""
    info = sched.get("/api/runtime").json()
    if info["Kind"] != "oci":
        pytest.skip(f"no usable OCI runtime here: {info['Why']}")
    handler = type("Slow", (_SlowProxy,), {"upstream": registry.host})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        image = f"127.0.0.1:{server.server_address[1]}/base:latest"
        r = sched.post("/v2/apps", json={
            "id": "/slowpull", "cpus": 0.1, "mem": 16, "instances": 1, "cmd": "sleep 600",
            "container": {"type": "DOCKER", "docker": {"image": image}}})
        assert r.status_code == 201, r.text
        sched.wait_until(lambda: sched.tasks("/slowpull"), 10, "a task for /slowpull")
        time.sleep(0.5)   # the pull waits for the manifest
        sched.client.delete_app("/slowpull", force=True)
        sched.wait_until(lambda: sched.get("/v2/apps/slowpull").status_code == 404, 15,
                         "the app to be deleted")
        # the pull ends (the image arrives); still no container, ever
        sched.wait_until(lambda: any(i["RepoTags"] and image in i["RepoTags"]
                                     for i in sched.get("/api/images").json()), 30,
                         "the pull to finish")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert sched.get("/api/containers", params={"all": "1"}).json() == []
            time.sleep(0.1)
        assert sched.berthd.running
    finally:
        server.shutdown()
        server.server_close()
        for c in sched.get("/api/containers", params={"all": "1"}).json():
            sched.delete(f"/api/containers/{c['Id']}", params={"force": "1"})
