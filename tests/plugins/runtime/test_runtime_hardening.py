# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile registry must give a failed pull, never a crashed or bloated
berthd: manifests, image configs and token replies nested far too deep, a
manifest that never ends. A huge app is launched at a bounded rate, and a
DELETE meanwhile lands at once and leaves nothing behind."""

import hashlib
import http.server
import json
import os
import signal
import socketserver
import threading
import time

import pytest
import requests

DEEP = "[" * 100000 + "]" * 100000
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class _Fake(http.server.BaseHTTPRequestHandler):
    """/v2/<name>/manifests/latest for: deep (a manifest nested 100000
    deep), deepconfig (a good manifest whose config blob is), endless (a
    manifest that never ends), token (a Bearer challenge whose token
    endpoint answers with deep JSON)."""

    protocol_version = "HTTP/1.1"
    config = DEEP.encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        port = self.server.server_address[1]
        if path == "/tokens":
            return self._send(200, DEEP.encode())
        if path.startswith("/v2/token/") and "Authorization" not in self.headers:
            return self._send(401, headers=[("WWW-Authenticate",
                                             f'Bearer realm="http://127.0.0.1:{port}/tokens",'
                                             f'service="fake",scope="repository:token:pull"')])
        if path == "/v2/" or path.startswith("/v2/token/"):
            return self._send(200, b"{}")
        if path == "/v2/deep/manifests/latest":
            return self._send(200, DEEP.encode(), MT_MANIFEST)
        if path == "/v2/deepconfig/manifests/latest":
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": self.config_digest, "size": len(self.config)},
                "layers": []}).encode()
            return self._send(200, manifest, MT_MANIFEST)
        if path == f"/v2/deepconfig/blobs/{self.config_digest}":
            return self._send(200, self.config, "application/octet-stream")
        if path == "/v2/endless/manifests/latest":
            self.send_response(200)
            self.send_header("Content-Type", MT_MANIFEST)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            deadline = time.monotonic() + 60
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(frame)
            except OSError:
                pass
            self.close_connection = True
            return
        self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture
def fake_registry():
    server = _Server(("127.0.0.1", 0), _Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def pull(b, ref, timeout=30):
    r = requests.post(b.url + "/api/images/pull", params={"ref": ref}, stream=True,
                      timeout=timeout * b.TIME_SCALE)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.iter_lines() if line]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.parametrize("name", ["deep", "deepconfig", "token"])
def test_deeply_nested_registry_json_fails_the_pull(berthd, fake_registry, name):
    lines = pull(berthd, f"{fake_registry}/{name}:latest")
    assert berthd.running, berthd.stderr()[-3000:]
    assert lines and "error" in lines[-1], lines
    assert "nest" in lines[-1]["error"].lower() or "deep" in lines[-1]["error"].lower(), lines
    assert berthd.get("/v1/status/leader").status_code == 200
    # nothing was stored
    assert berthd.get("/api/images").json() == []


def test_endless_manifest_is_refused(berthd, fake_registry):
    before = rss_kb(berthd.pid)
    start = time.monotonic()
    lines = pull(berthd, f"{fake_registry}/endless:latest", timeout=40)
    assert berthd.running
    assert lines and "too large" in lines[-1].get("error", ""), lines
    assert time.monotonic() - start < 20 * berthd.TIME_SCALE
    # the manifest was not buffered whole (at most its limit, a few MB)
    assert rss_kb(berthd.pid) - before < 64 * 1024


# -- spawn storm --------------------------------------------------------------

RATE = 20          # [runtime] max_launches_per_second in the test's berth.conf
IN_FLIGHT = 8      # [runtime] max_launches_in_flight


def supervisors(state_dir):
    """pids of the task supervisors of the berthd in state_dir."""
    marker = str(state_dir).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = open(f"/proc/{entry}/cmdline", "rb").read()
        except OSError:
            continue
        args = cmd.split(b"\0")
        if b"berth-task" in args and any(a.startswith(marker) for a in args):
            found.append(int(entry))
    return found


def kill_all(state_dir):
    for pid in supervisors(state_dir):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def storm_berthd(berthd_factory, tmp_path):
    marathon = pytest.importorskip("marathon", reason="python3-marathon is not installed")
    conf = tmp_path / "berth.conf"
    conf.write_text(f"""[scheduler]
min_cpus=0.001
min_mem_mb=1
cpus=64
mem_mb=65536
max_tasks_per_node=2000

[runtime]
max_launches_per_second={RATE}
max_launches_in_flight={IN_FLIGHT}
""")
    b = berthd_factory(extra_args=["--config", conf])
    # answered once the runtime has probed the host (in a thread of its own)
    assert requests.get(b.url + "/api/runtime", timeout=60).status_code == 200
    b.marathon = marathon.MarathonClient(b.url, timeout=10, auth_token=b.token)
    yield b
    kill_all(b.state_dir)


def test_spawn_storm_is_paced_and_delete_lands(storm_berthd):
    from marathon import MarathonApp
    b = storm_berthd
    client = b.marathon
    # the bounds are rates: a slower (sanitized) berthd gets longer windows
    # and more time to answer, never a higher launch rate
    scale = b.TIME_SCALE
    start = time.monotonic()
    client.create_app("storm", MarathonApp(cmd="sleep 600", cpus=0.001, mem=4, instances=300))

    # the runtime launches at most RATE a second (plus what may be in flight)
    samples = []
    while time.monotonic() - start < 3 * scale:
        n = len(supervisors(b.state_dir))
        elapsed = time.monotonic() - start
        samples.append((round(elapsed, 2), n))
        assert n <= RATE * elapsed + IN_FLIGHT + 2, samples
        assert b.running
        time.sleep(0.05)
    launched = len(supervisors(b.state_dir))
    # and it does launch: at full rate for a second at least, where forks
    # are cheap (under the sanitizers every fork copies a large shadow map)
    assert launched >= RATE // scale, samples

    # a restarted berthd adopts what runs and goes on at the same pace
    b.restart()
    start, before = time.monotonic(), len(supervisors(b.state_dir))
    samples = []
    while time.monotonic() - start < 1.5 * scale:
        n = len(supervisors(b.state_dir))
        elapsed = time.monotonic() - start
        samples.append((round(elapsed, 2), n))
        assert n <= before + RATE * elapsed + IN_FLIGHT + 2, (before, samples)
        time.sleep(0.05)
    assert samples[-1][1] > before, (before, samples)   # and it goes on

    # the API answers at once, and a DELETE lands within a second
    t = time.monotonic()
    r = requests.get(b.url + "/v2/apps/storm", timeout=5 * scale)
    assert r.status_code == 200 and time.monotonic() - t < 1 * scale
    t = time.monotonic()
    client.delete_app("/storm", force=True)
    assert time.monotonic() - t < 1 * scale

    # every process goes, and the tasks that were still waiting never start
    deadline = time.monotonic() + 30 * b.TIME_SCALE
    while supervisors(b.state_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert supervisors(b.state_dir) == []
    time.sleep(1)
    assert supervisors(b.state_dir) == []
    assert b.running
    r = requests.get(b.url + "/v2/apps/storm", timeout=5)
    assert r.status_code == 404


def test_spawn_out_of_descriptors_fails_the_task(storm_berthd):
    """berthd out of file descriptors: a task it cannot start fails with
    the reason, berthd stays up and starts it once descriptors are back."""
    import resource
    from marathon import MarathonApp
    b = storm_berthd
    client = b.marathon
    client.create_app("fds", MarathonApp(cmd="sleep 600", cpus=0.01, mem=4, instances=1,
                                         backoff_seconds=0.5, backoff_factor=1.0))
    deadline = time.monotonic() + 15 * b.TIME_SCALE
    while not supervisors(b.state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    [sup] = supervisors(b.state_dir)
    command = int((b.state_dir / "runtime" / "tasks").glob("*/pid").__next__().read_text())

    # no descriptor can be opened any more: the limit is at most the lowest
    # free descriptor number (and as low as it can be with every descriptor
    # the main loop polls still allowed); the task dies; its replacement
    # cannot start
    client.session.close()
    time.sleep(0.5)
    soft, hard = resource.prlimit(b.pid, resource.RLIMIT_NOFILE)
    fds = {int(fd): os.readlink(f"/proc/{b.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{b.pid}/fd")}
    lowest_free = min(set(range(len(fds) + 1)) - set(fds))
    pollable = sum(1 for target in fds.values() if not target.startswith("/"))
    resource.prlimit(b.pid, resource.RLIMIT_NOFILE, (min(lowest_free, max(pollable + 2, 8)), hard))
    try:
        os.killpg(command, signal.SIGKILL)
        time.sleep(3 * b.TIME_SCALE)
        assert b.running, b.stderr()[-3000:]
    finally:
        if b.running:
            resource.prlimit(b.pid, resource.RLIMIT_NOFILE, (soft, hard))

    failure = client.get_app("/fds").last_task_failure
    assert failure.state == "TASK_FAILED"
    assert "Too many open files" in failure.message, failure.message
    # descriptors are back: the app runs again
    deadline = time.monotonic() + 15 * b.TIME_SCALE
    while not supervisors(b.state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(supervisors(b.state_dir)) == 1
    assert sup not in supervisors(b.state_dir)
    client.delete_app("/fds", force=True)


# -- stored containers that cannot be used ------------------------------------

def test_broken_container_rows_are_set_aside(berthd):
    """Rows of the containers table that fail validation (no id, a spec
    nested far too deep, an unknown state) are set aside when berthd starts:
    it comes up, lists them under broken, and DELETE removes them."""
    import sqlite3
    b = berthd
    assert requests.get(b.url + "/api/runtime", timeout=60).status_code == 200
    cols = ("id, name, node_id, image_id, image_ref, spec, runtime, state, pid, conmon_pid,"
            " created_at, create_index, modify_index")
    # the node the runtime loads the containers of
    node = requests.get(b.url + "/api/status", timeout=10).json()["node_id"]
    b.stop()
    db = sqlite3.connect(b.state_dir / "berth.db")
    deep = "[" * 100000 + "]" * 100000
    rows = [
        (None, "no-id", node, None, "x", "{}", "runc", "exited", 0, 0, 1, 1, 1),
        ("b" * 64, "too-deep", node, None, "x", deep, "runc", "running", 0, 0, 1, 2, 2),
        ("c" * 64, "odd-state", node, None, "x", "{}", "runc", "zombie", 0, 0, 1, 3, 3),
    ]
    db.executemany(f"INSERT INTO containers ({cols}) VALUES ({','.join('?' * 13)})", rows)
    db.commit()
    rowid = db.execute("SELECT rowid FROM containers WHERE name = 'no-id'").fetchone()[0]
    db.close()

    b.start()
    assert requests.get(b.url + "/api/runtime", timeout=60).status_code == 200
    assert b.running
    broken = {e["id"]: e for e in requests.get(b.url + "/api/status", timeout=10).json()["broken"]
              if e["kind"] == "container"}
    assert set(broken) == {f"rowid-{rowid}", "b" * 64, "c" * 64}, broken
    assert all(e["owner"] == "runtime" for e in broken.values())
    assert "zombie" in broken["c" * 64]["reason"]
    # the API still works, and lists none of them
    assert requests.get(b.url + "/api/containers", params={"all": "1"}, timeout=10).json() == []
    for cid in broken:
        r = requests.delete(b.url + f"/api/containers/{cid}", timeout=10)
        assert r.status_code == 204, r.text
    assert [e for e in requests.get(b.url + "/api/status", timeout=10).json()["broken"]
            if e["kind"] == "container"] == []
    b.restart()
    assert requests.get(b.url + "/api/status", timeout=10).json()["broken"] == []
