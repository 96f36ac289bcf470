# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the runtime plugin's tests.

Session-wide (built once, shared by every test):
  oci_tools       the container tools the tests need (skip, or fail under
                  BERTH_REQUIRE_CONTAINERS=1, when one is missing)
  test_images     small images built from busybox-static with umoci, in an
                  OCI layout: `base`, `app` (base + one layer), `wh` (app +
                  a layer that deletes a file: a whiteout), `multi` (an
                  index for linux/amd64 + linux/arm64)
  registry        Debian's docker-registry on 127.0.0.1 with those images
                  pushed by skopeo; `.ref(name)` gives "127.0.0.1:PORT/name"
  token_registry  a tiny proxy in front of it that demands Bearer tokens
                  from its own token endpoint (the WWW-Authenticate dance)

Per test:
  rt              a berthd with the runtime plugin (Runtime helper: pull,
                  run, wait, logs, cleanup of containers at teardown)
"""

import hashlib
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import requests

REQUIRE = os.environ.get("BERTH_REQUIRE_CONTAINERS", "") == "1"

TOOLS = {
    "umoci": "umoci",
    "skopeo": "skopeo",
    "docker-registry": "docker-registry",
    "runc": "runc",
    "conmon": "conmon",
}


def need(condition, reason):
    """Skip with the reason, or fail when BERTH_REQUIRE_CONTAINERS=1."""
    if condition:
        return
    if REQUIRE:
        pytest.fail(f"BERTH_REQUIRE_CONTAINERS=1 but: {reason}", pytrace=False)
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def _which(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")


def run(cmd, **kwargs):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n"
                           f"{p.stdout}\n{p.stderr}")
    return p.stdout


@pytest.fixture(scope="session")
def oci_tools():
    missing = [name for name, exe in TOOLS.items() if not _which(exe)]
    need(not missing, f"missing container tools: {', '.join(missing)} "
                      f"(apt-get install runc conmon umoci skopeo docker-registry)")
    need(os.path.exists("/bin/busybox"), "busybox-static is not installed")
    need(os.path.isdir("/usr/lib/cni"), "containernetworking-plugins is not installed")
    need(os.geteuid() == 0, "containers need root here")
    return {name: _which(exe) for name, exe in TOOLS.items()}


def _applets():
    out = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout
    return [a for a in out.split() if a and a != "busybox"]


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def _index_entry(layout, tag):
    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    raise KeyError(tag)


def _add_index_entry(layout, tag, descriptor):
    index = json.loads((layout / "index.json").read_text())
    d = dict(descriptor)
    d["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index["manifests"].append(d)
    (layout / "index.json").write_text(json.dumps(index))


@pytest.fixture(scope="session")
def test_images(oci_tools, tmp_path_factory):
    """An OCI layout with the test images (see the module docstring)."""
    work = tmp_path_factory.mktemp("images")
    layout = work / "oci"
    umoci = oci_tools["umoci"]
    run([umoci, "init", "--layout", layout])
    run([umoci, "new", "--image", f"{layout}:base"])

    # base: busybox and its applets
    bundle = work / "b-base"
    run([umoci, "unpack", "--image", f"{layout}:base", bundle])
    rootfs = bundle / "rootfs"
    for d in ("bin", "etc", "tmp", "root", "www"):
        (rootfs / d).mkdir(exist_ok=True)
    os.chmod(rootfs / "tmp", 0o1777)
    shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in _applets():
        link = rootfs / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (rootfs / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        "app:x:1000:1000:app:/:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\napp:x:1000:\n")
    (rootfs / "www" / "index.html").write_text("hello from berth\n")
    run([umoci, "repack", "--image", f"{layout}:base", bundle])
    run([umoci, "config", "--image", f"{layout}:base", "--tag", "base",
         "--config.cmd", "/bin/sh", "--config.env", "PATH=/bin",
         "--architecture", "amd64", "--os", "linux"])

    # app: base + a layer with a file; entrypoint, cmd, env, workdir
    bundle = work / "b-app"
    run([umoci, "unpack", "--image", f"{layout}:base", bundle])
    (bundle / "rootfs" / "app").mkdir()
    (bundle / "rootfs" / "app" / "hello.txt").write_text("hello\n")
    (bundle / "rootfs" / "app" / "gone.txt").write_text("to be deleted\n")
    run([umoci, "repack", "--image", f"{layout}:app", bundle])
    run([umoci, "config", "--image", f"{layout}:app", "--tag", "app",
         "--config.entrypoint", "/bin/echo", "--config.cmd", "from-image-cmd",
         "--config.env", "PATH=/bin", "--config.env", "FOO=image", "--config.env", "KEEP=1",
         "--config.workingdir", "/app"])

    # wh: app + a layer deleting /app/gone.txt (a whiteout)
    bundle = work / "b-wh"
    run([umoci, "unpack", "--image", f"{layout}:app", bundle])
    (bundle / "rootfs" / "app" / "gone.txt").unlink()
    run([umoci, "repack", "--image", f"{layout}:wh", bundle])
    run([umoci, "config", "--image", f"{layout}:wh", "--tag", "wh",
         "--config.entrypoint", "", "--config.cmd", "/bin/sh", "--config.stopsignal", "SIGUSR1"])

    # multi: an index with app for linux/amd64 and base for linux/arm64
    app_desc = _index_entry(layout, "app")
    base_desc = _index_entry(layout, "base")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": base_desc["mediaType"], "digest": base_desc["digest"],
             "size": base_desc["size"], "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": app_desc["mediaType"], "digest": app_desc["digest"],
             "size": app_desc["size"], "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    }
    digest, size = _write_blob(layout, json.dumps(index).encode())
    _add_index_entry(layout, "multi", {
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": digest, "size": size})

    ids = {}
    for tag in ("base", "app", "wh"):
        manifest = json.loads((layout / "blobs" / "sha256" /
                               _index_entry(layout, tag)["digest"][7:]).read_text())
        ids[tag] = manifest["config"]["digest"]
    return type("Images", (), {"layout": layout, "ids": ids, "work": work})


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Registry:
    def __init__(self, host, proc=None):
        self.host = host
        self.proc = proc

    def ref(self, name):
        return f"{self.host}/{name}"


@pytest.fixture(scope="session")
def registry(oci_tools, test_images, tmp_path_factory):
    work = tmp_path_factory.mktemp("registry")
    port = _free_port()
    config = work / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {work}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
""")
    log = open(work / "registry.log", "wb")
    proc = subprocess.Popen([oci_tools["docker-registry"], "serve", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/v2/")
        host = f"127.0.0.1:{port}"
        for tag in ("base", "app", "wh"):
            run([oci_tools["skopeo"], "copy", "--dest-tls-verify=false",
                 f"oci:{test_images.layout}:{tag}", f"docker://{host}/{tag}:latest"])
        run([oci_tools["skopeo"], "copy", "--all", "--dest-tls-verify=false",
             f"oci:{test_images.layout}:multi", f"docker://{host}/multi:latest"])
        yield Registry(host, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


class _TokenProxy(http.server.BaseHTTPRequestHandler):
    upstream = None
    mode = "bearer"   # or "basic"
    basic = None      # "user:password" in basic mode
    token = "berth-test-token"
    tokens_issued = 0
    ranges = []   # (path, Range header) of the requests that had one

    def log_message(self, *args):
        pass

    def do_GET(self):
        cls = type(self)
        if self.path.startswith("/token"):
            cls.tokens_issued += 1
            body = json.dumps({"token": cls.token}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if cls.mode == "basic":
            import base64
            want = "Basic " + base64.b64encode(cls.basic.encode()).decode()
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="berth-test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        elif self.headers.get("Authorization") != f"Bearer {cls.token}":
            port = self.server.server_address[1]
            self.send_response(401)
            self.send_header("WWW-Authenticate",
                             f'Bearer realm="http://127.0.0.1:{port}/token",'
                             f'service="berth-test",scope="repository:app:pull"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {"Accept": self.headers.get("Accept", "*/*")}
        if self.headers.get("Range"):
            headers["Range"] = self.headers["Range"]
            cls.ranges.append((self.path, self.headers["Range"]))
        req = urllib.request.Request(f"http://{cls.upstream}{self.path}", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                data = r.read()
                status = r.status
                headers = r.headers
        except urllib.error.HTTPError as e:
            data, status, headers = e.read(), e.code, e.headers
        self.send_response(status)
        for h in ("Content-Type", "Docker-Content-Digest", "Content-Range"):
            if headers.get(h):
                self.send_header(h, headers[h])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def _proxy(registry, **attrs):
    handler = type("Proxy", (_TokenProxy,), dict(attrs, upstream=registry.host))
    server = _ThreadingServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    reg = Registry(f"127.0.0.1:{server.server_address[1]}")
    reg.handler = handler
    reg.server = server
    return reg


@pytest.fixture(scope="session")
def basic_registry(registry):
    """The registry behind HTTP basic auth (user "berth", password "s3cret")."""
    reg = _proxy(registry, mode="basic", basic="berth:s3cret", ranges=[])
    yield reg
    reg.server.shutdown()
    reg.server.server_close()


@pytest.fixture(scope="session")
def token_registry(registry):
    handler = type("Proxy", (_TokenProxy,), {"upstream": registry.host, "ranges": []})
    server = _ThreadingServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        reg = Registry(f"127.0.0.1:{server.server_address[1]}")
        reg.handler = handler
        yield reg
    finally:
        server.shutdown()
        server.server_close()


class Runtime:
    """Helpers around one berthd for the runtime tests."""

    def __init__(self, berthd, registry):
        self.b = berthd
        self.registry = registry

    def url(self, path):
        return self.b.url + path

    def pull(self, ref, expect_ok=True):
        r = requests.post(self.url("/api/images/pull"), params={"ref": ref}, stream=True,
                          timeout=120 * self.b.TIME_SCALE)
        assert r.status_code == 200, r.text
        lines = [json.loads(line) for line in r.iter_lines() if line]
        if expect_ok:
            assert lines and lines[-1].get("status") == "Pulled", lines
        return lines

    def create(self, image, expect=201, **spec):
        spec["image"] = image
        spec.setdefault("network", "none")
        r = requests.post(self.url("/api/containers"), json=spec, timeout=60 * self.b.TIME_SCALE)
        assert r.status_code == expect, r.text
        return r.json()

    def start(self, cid):
        r = requests.post(self.url(f"/api/containers/{cid}/start"), timeout=60 * self.b.TIME_SCALE)
        assert r.status_code in (204, 304), r.text

    def run(self, image, **spec):
        c = self.create(image, **spec)
        self.start(c["Id"])
        return c["Id"]

    def wait(self, cid, timeout=30):
        r = requests.post(self.url(f"/api/containers/{cid}/wait"), timeout=timeout * self.b.TIME_SCALE)
        assert r.status_code == 200, r.text
        return r.json()

    def inspect(self, cid):
        r = requests.get(self.url(f"/api/containers/{cid}"), timeout=10 * self.b.TIME_SCALE)
        assert r.status_code == 200, r.text
        return r.json()

    def logs(self, cid, **params):
        r = requests.get(self.url(f"/api/containers/{cid}/logs"), params=params,
                         timeout=30 * self.b.TIME_SCALE)
        assert r.status_code == 200, r.text
        return r.text

    def remove(self, cid, force=True):
        r = requests.delete(self.url(f"/api/containers/{cid}"),
                            params={"force": "1"} if force else {},
                            timeout=60 * self.b.TIME_SCALE)
        return r

    def cleanup(self):
        """Removes every container through the API, then (safety net for a
        failed test) kills what is left under this daemon's state dir."""
        problems = []
        if self.b.running:
            try:
                r = requests.get(self.url("/api/containers"), params={"all": "1"}, timeout=10)
                for c in r.json():
                    rr = self.remove(c["Id"])
                    if rr.status_code != 204:
                        problems.append(f"remove {c['Id'][:12]}: {rr.status_code} {rr.text}")
            except requests.RequestException as e:
                problems.append(f"cleanup: {e}")
        state = str(self.b.state_dir)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if state in cmdline and ("conmon" in cmdline or "supervise" in cmdline):
                problems.append(f"left running: {cmdline[:80]}")
                subprocess.run(["pkill", "-9", "-P", pid])
                subprocess.run(["kill", "-9", pid])
        oci = self.b.state_dir / "runtime" / "oci"
        if oci.exists():
            for cid in os.listdir(oci):
                subprocess.run(["runc", "--root", str(oci), "delete", "--force", cid],
                               capture_output=True)
        with open("/proc/self/mounts") as f:
            for line in f:
                target = line.split()[1]
                if target.startswith(state):
                    problems.append(f"left mounted: {target}")
                    subprocess.run(["umount", "-l", target])
        return problems


@pytest.fixture
def make_runtime():
    """make_runtime(berthd, registry) -> Runtime, for tests that start their
    own daemons."""
    return Runtime


@pytest.fixture
def rt(berthd_factory, oci_tools, registry, tmp_path):
    # image archives travel in the request body: allow more than the 1 MiB default
    config = tmp_path / "rt-berth.conf"
    config.write_text("[berthd]\nmax_body_bytes=268435456\n")
    b = berthd_factory(extra_args=["--config", str(config)])
    r = requests.get(b.url + "/api/runtime", timeout=10)
    need(r.status_code == 200, f"the runtime plugin did not load: {r.status_code} {r.text}")
    info = r.json()
    need(info["Kind"] == "oci", f"no usable OCI runtime here: {info['Why']}")
    runtime = Runtime(b, registry)
    yield runtime
    problems = runtime.cleanup()
    assert not problems, problems
