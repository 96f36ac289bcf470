# SPDX-License-Identifier: LGPL-2.1-or-later
"""Health checks run by berthd: HTTP, TCP, script and TTL, against real
listeners started by the test."""

import http.server
import socket
import threading

import consul
import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        srv = self.server
        srv.requests.append((self.command, self.path, dict(self.headers)))
        body = srv.body.encode()
        self.send_response(srv.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def http_target():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.status = 200
    srv.body = "fine"
    srv.requests = []
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/health"
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1", dns=False,
                          extra_config="[discovery]\nenable_script_checks = true\n")


def test_script_checks_disabled_by_default(discovery_node):
    node = discovery_node("node1", dns=False)
    for path, body in [
            ("/v1/agent/check/register", {"Name": "s", "Args": ["true"], "Interval": "1s"}),
            ("/v1/agent/service/register", {"Name": "web", "Check": {
                "Script": "true", "Interval": "1s"}}),
            ("/v1/catalog/register", {"Node": "node1", "Address": "127.0.0.1", "Check": {
                "Name": "s", "Args": ["true"], "Interval": "1s"}})]:
        r = node.put(path, json=body)
        assert r.status_code == 400, (path, r.text)
        message = r.json()["message"]
        # both switches: the core's (also read by the scheduler) and discovery's
        assert "[berthd] enable_script_checks" in message, message
        assert "[discovery] enable_script_checks" in message, message
    assert node.get("/v1/agent/checks").json() == {}
    assert node.get("/v1/agent/services").json() == {}


def status_of(c, check_id):
    checks = c.agent.checks()
    return checks[check_id]["Status"] if check_id in checks else None


def test_http_check(node, http_target, wait_until):
    c = node.consul()
    check = {"HTTP": http_target.url, "Interval": "200ms", "Timeout": "1s",
             "Method": "POST", "Header": {"X-Probe": ["yes"]}}
    assert c.agent.service.register("web", service_id="web1", port=1, check=check)
    wait_until(lambda: status_of(c, "service:web1") == "passing", 5, "passing")
    out = c.agent.checks()["service:web1"]["Output"]
    assert "200" in out and "fine" in out
    method, path, headers = http_target.requests[-1]
    assert method == "POST" and path == "/health"
    assert headers.get("X-Probe") == "yes"

    http_target.status = 429
    wait_until(lambda: status_of(c, "service:web1") == "warning", 5, "warning")
    http_target.status = 503
    wait_until(lambda: status_of(c, "service:web1") == "critical", 5, "critical")
    _, entries = c.health.service("web", passing=True)
    assert entries == []
    http_target.status = 204
    wait_until(lambda: status_of(c, "service:web1") == "passing", 5, "passing again")


def test_http_check_unreachable(node, wait_until, berth_env):
    c = node.consul()
    port = berth_env.free_port()
    assert c.agent.check.register("down", check_id="down", check={
        "HTTP": f"http://127.0.0.1:{port}/", "Interval": "200ms", "Status": "passing"})
    wait_until(lambda: status_of(c, "down") == "critical", 5, "critical")
    assert c.agent.checks()["down"]["Output"]


def test_tcp_check(node, wait_until):
    c = node.consul()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    try:
        assert c.agent.service.register(
            "db", service_id="db1", port=port,
            check=consul.Check.tcp("127.0.0.1", port, "200ms", timeout="1s"))
        wait_until(lambda: status_of(c, "service:db1") == "passing", 5, "passing")
        assert "Success" in c.agent.checks()["service:db1"]["Output"]
    finally:
        listener.close()
    wait_until(lambda: status_of(c, "service:db1") == "critical", 5, "critical")


def test_script_check(node, wait_until, tmp_path):
    c = node.consul()
    flag = tmp_path / "code"
    flag.write_text("0")
    script = tmp_path / "check.sh"
    script.write_text(f"#!/bin/sh\necho hello from check\nexit $(cat {flag})\n")
    script.chmod(0o755)
    r = node.put("/v1/agent/check/register", json={
        "Name": "script", "ID": "script", "Args": [str(script)], "Interval": "200ms"})
    assert r.status_code == 200, r.text
    wait_until(lambda: status_of(c, "script") == "passing", 5, "passing")
    assert c.agent.checks()["script"]["Output"].strip() == "hello from check"
    flag.write_text("1")
    wait_until(lambda: status_of(c, "script") == "warning", 5, "warning")
    flag.write_text("2")
    wait_until(lambda: status_of(c, "script") == "critical", 5, "critical")


def test_script_output_limited_and_legacy_script(node, wait_until):
    c = node.consul()
    # python-consul's Check.script: a shell command line
    assert c.agent.check.register("big", check_id="big", check=consul.Check.script(
        "head -c 100000 /dev/zero | tr '\\0' x", "200ms"))
    wait_until(lambda: status_of(c, "big") == "passing", 5, "passing")
    assert len(c.agent.checks()["big"]["Output"]) == 4096


def test_script_timeout(node, wait_until):
    c = node.consul()
    r = node.put("/v1/agent/check/register", json={
        "Name": "slow", "Args": ["sleep", "30"], "Interval": "300ms",
        "Timeout": "300ms", "Status": "passing"})
    assert r.status_code == 200
    wait_until(lambda: status_of(c, "slow") == "critical", 5, "critical")
    assert "Timed out" in c.agent.checks()["slow"]["Output"]


def test_failures_before_critical_and_success_before_passing(node, http_target, wait_until):
    c = node.consul()
    r = node.put("/v1/agent/check/register", json={
        "Name": "c", "ID": "c", "HTTP": http_target.url, "Interval": "100ms",
        "SuccessBeforePassing": 3, "FailuresBeforeCritical": 3})
    assert r.status_code == 200
    wait_until(lambda: status_of(c, "c") == "passing", 5, "passing")
    n = len(http_target.requests)
    assert n >= 3
    http_target.status = 500
    wait_until(lambda: status_of(c, "c") == "critical", 5, "critical")
    failing = [x for x in http_target.requests[n:]]
    assert len(failing) >= 3


def test_deregister_critical_service_after(node, wait_until):
    c = node.consul()
    assert c.agent.service.register("tmp", service_id="tmp1", check={
        "TTL": "200ms", "DeregisterCriticalServiceAfter": "300ms"})
    wait_until(lambda: "tmp1" not in c.agent.services(), 5, "deregistration")
    assert c.agent.checks() == {}


def test_unchanged_results_do_not_write(node, http_target, wait_until):
    c = node.consul()
    assert c.agent.check.register("h", check_id="h", check={
        "HTTP": http_target.url, "Interval": "100ms"})
    wait_until(lambda: status_of(c, "h") == "passing", 5, "passing")
    index, _ = c.health.state("any")
    n = len(http_target.requests)
    wait_until(lambda: len(http_target.requests) >= n + 4, 5, "more probes")
    index2, _ = c.health.state("any")
    assert index2 == index


def test_checks_resume_after_restart(node, http_target, wait_until):
    c = node.consul()
    assert c.agent.service.register("web", service_id="web1", check={
        "HTTP": http_target.url, "Interval": "200ms"})
    wait_until(lambda: status_of(c, "service:web1") == "passing", 5, "passing")
    node.restart()
    c = node.consul()
    http_target.status = 500
    wait_until(lambda: status_of(c, "service:web1") == "critical", 5,
               "critical after restart")


def test_check_removed_stops_probing(node, http_target, wait_until):
    c = node.consul()
    assert c.agent.check.register("h", check_id="h", check={
        "HTTP": http_target.url, "Interval": "100ms"})
    wait_until(lambda: len(http_target.requests) >= 2, 5, "probes")
    assert c.agent.check.deregister("h")
    import time
    time.sleep(0.3)
    n = len(http_target.requests)
    time.sleep(0.5)
    assert len(http_target.requests) == n


@pytest.fixture
def https_target(tmp_path):
    import ssl
    import subprocess
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.status, srv.body, srv.requests = 200, "secure", []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"https://127.0.0.1:{srv.server_address[1]}/health"
    yield srv
    srv.shutdown()
    srv.server_close()


def test_https_check_tls_skip_verify(node, https_target, wait_until):
    c = node.consul()
    r = node.put("/v1/agent/check/register", json={
        "Name": "strict", "HTTP": https_target.url, "Interval": "200ms", "Status": "passing"})
    assert r.status_code == 200
    r = node.put("/v1/agent/check/register", json={
        "Name": "lax", "HTTP": https_target.url, "Interval": "200ms",
        "TLSSkipVerify": True})
    assert r.status_code == 200
    wait_until(lambda: status_of(c, "lax") == "passing", 5, "the skip-verify check to pass")
    wait_until(lambda: status_of(c, "strict") == "critical", 5,
               "the verifying check to fail on a self-signed certificate")


def test_http_output_limited(node, http_target, wait_until):
    c = node.consul()
    http_target.body = "y" * 200000
    assert c.agent.check.register("big", check_id="big", check={
        "HTTP": http_target.url, "Interval": "200ms"})
    wait_until(lambda: status_of(c, "big") == "passing", 5, "passing")
    out = c.agent.checks()["big"]["Output"]
    assert len(out) == 4096 and out.endswith("yyyy")
