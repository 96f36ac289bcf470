# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile registry must give a failed pull, never a crashed or bloated
berthd: manifests, image configs and token replies nested far too deep, a
manifest that never ends."""

import hashlib
import http.server
import json
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
