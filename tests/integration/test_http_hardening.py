# SPDX-License-Identifier: LGPL-2.1-or-later
"""The HTTP front door under hostile clients (issue 11, items 4, 5, 8, 11).

berthd accepts connections itself (core/daemon/bd-listener.c): a client
closing an idle keep-alive connection or leaving a parked blocking query
frees its socket at once; request heads are bounded in time and size
(408/414/431); bodies over the limit are refused with 413 before they are
read; connections are capped in all and per client; and state-changing
requests from other sites or with browser form bodies are refused
(core/daemon/bd-http-guard.c)."""

import json
import os
import resource
import select
import socket
import time

import pytest
import requests

pytestmark = pytest.mark.timeout(180) if hasattr(pytest.mark, "timeout") else []


# -- helpers -----------------------------------------------------------------

def fd_count(berthd):
    return len(os.listdir(f"/proc/{berthd.pid}/fd"))


def settled_fd_count(berthd):
    """berthd's fd count once connections of earlier requests are closed."""
    last = fd_count(berthd)
    for _ in range(50):
        time.sleep(0.1)
        now = fd_count(berthd)
        if now == last:
            return now
        last = now
    return last


def rss_kib(berthd):
    with open(f"/proc/{berthd.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def start_with_config(berthd_factory, tmp_path, **keys):
    conf = tmp_path / "berth.conf"
    lines = ["[berthd]"] + [f"{k}={v}" for k, v in keys.items()]
    conf.write_text("\n".join(lines) + "\n")
    return berthd_factory(extra_args=["--config", str(conf)])


def connect(berthd, timeout=10):
    return socket.create_connection((berthd.host, berthd.port), timeout=timeout * berthd.TIME_SCALE)


def read_reply(sock, timeout=10):
    """Reads one HTTP reply (head + Content-Length body) from `sock`;
    returns (status, headers dict, body) or None if closed first."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def get_keepalive(sock, path="/v1/status/leader"):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    reply = read_reply(sock)
    assert reply is not None and reply[0] == 200, reply
    return reply


def assert_json_message(reply, status, *words):
    assert reply is not None, "the connection was closed without an answer"
    got_status, headers, body = reply
    assert got_status == status, reply
    assert headers.get("content-type", "").startswith("application/json"), headers
    message = json.loads(body)["message"]
    for word in words:
        assert word in message, message
    return message


def assert_alive(berthd):
    r = berthd.get("/v1/status/leader", timeout=5)
    assert r.status_code == 200
    r = berthd.unix_request("GET", "/v1/status/leader", timeout=5)
    assert r.status == 200


# -- item 4: connections are released ---------------------------------------

def test_closed_keepalive_connections_release_their_socket(berthd):
    base = settled_fd_count(berthd)
    for _ in range(300):
        with connect(berthd) as s:
            get_keepalive(s)
    # every socket is closed once its client has closed it
    assert wait_for(lambda: fd_count(berthd) <= base + 5, 5), \
        f"{fd_count(berthd)} fds open, {base} before 300 closed connections"
    assert_alive(berthd)


def test_unix_socket_keepalive_connections_release_their_socket(berthd):
    base = settled_fd_count(berthd)
    for _ in range(200):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(berthd.socket))
            get_keepalive(s)
    assert wait_for(lambda: fd_count(berthd) <= base + 5, 5), \
        f"{fd_count(berthd)} fds open, {base} before 200 closed connections"


def test_api_keeps_answering_past_the_fd_limit(berthd):
    # far fewer descriptors than connections made below
    limit = settled_fd_count(berthd) + 40
    resource.prlimit(berthd.pid, resource.RLIMIT_NOFILE, (limit, limit))
    for _ in range(250):
        with connect(berthd) as s:
            get_keepalive(s)
    assert_alive(berthd)

    # more clients at once than descriptors: some wait in the backlog, and
    # once they are gone the API answers again (no busy loop, no dead door)
    socks = [connect(berthd) for _ in range(80)]
    for s in socks:
        s.close()
    assert wait_for(lambda: fd_count(berthd) < limit - 20, 10)
    assert_alive(berthd)
    assert berthd.running


@pytest.mark.parametrize("door", ["tcp", "unix"])
def test_parked_blocking_query_released_when_client_leaves(berthd, door):
    r = berthd.put("/v1/kv/parked", data=b"v")
    assert r.status_code == 200
    index = int(berthd.get("/v1/kv/parked").headers["X-Consul-Index"])
    base = settled_fd_count(berthd)
    if door == "tcp":
        s = connect(berthd)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(berthd.socket))
    s.sendall(f"GET /v1/kv/parked?index={index}&wait=5m HTTP/1.1\r\n"
              f"Host: 127.0.0.1\r\n\r\n".encode())
    assert wait_for(lambda: fd_count(berthd) >= base + 1, 5), "the query did not arrive"
    time.sleep(0.3)
    s.close()
    # released at once, not when the 5 minutes are up
    assert wait_for(lambda: fd_count(berthd) <= base, 3), \
        f"{fd_count(berthd)} fds open, {base} before the parked query"
    assert_alive(berthd)
    # the store still wakes the queries that are still there
    r = berthd.put("/v1/kv/parked", data=b"w")
    assert r.status_code == 200


def test_idle_keepalive_connection_times_out(berthd_factory, tmp_path):
    berthd = start_with_config(berthd_factory, tmp_path, http_idle_timeout=1)
    with connect(berthd) as s:
        get_keepalive(s)
        s.settimeout(10)
        started = time.monotonic()
        assert s.recv(1) == b""
        assert time.monotonic() - started < 5


def test_slowloris_head_is_cut_off(berthd_factory, tmp_path):
    berthd = start_with_config(berthd_factory, tmp_path, http_header_timeout=2)
    with connect(berthd) as s:
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\n")
        started = time.monotonic()
        reply = None
        for byte in b"X-Slow: " + b"a" * 20:
            try:
                s.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            if select.select([s], [], [], 0.5)[0]:
                reply = read_reply(s)
                break
        assert time.monotonic() - started < 6, "the slow client was not cut off"
        assert_json_message(reply, 408, "2 seconds")
    assert_alive(berthd)


def hold_until_refused(berthd, limit):
    """Opens keep-alive connections until one is refused; returns the open
    ones and the refusal."""
    settled_fd_count(berthd)
    held = []
    for _ in range(limit + 1):
        s = connect(berthd)
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = read_reply(s)
        if reply is None or reply[0] != 200:
            s.close()
            return held, reply
        held.append(s)
    return held, None


def test_stalled_body_is_cut_off(berthd_factory, tmp_path):
    berthd = start_with_config(berthd_factory, tmp_path, http_header_timeout=1)
    with connect(berthd) as s:
        s.sendall(b"PUT /v1/kv/stalled HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 100\r\n\r\n0123456789")
        started = time.monotonic()
        reply = read_reply(s, timeout=10)
        assert time.monotonic() - started < 5, "the stalled upload was not cut off"
        assert_json_message(reply, 408, "stalled")
    assert berthd.get("/v1/kv/stalled").status_code == 404
    assert_alive(berthd)


def test_connections_capped_per_client(berthd_factory, tmp_path):
    berthd = start_with_config(berthd_factory, tmp_path, http_max_connections_per_client=4)
    held, refusal = hold_until_refused(berthd, 4)
    assert len(held) == 4
    assert_json_message(refusal, 429, "http_max_connections_per_client")
    # the unix socket is another client (its uid)
    assert berthd.unix_request("GET", "/v1/status/leader").status == 200
    for s in held:
        s.close()
    assert wait_for(lambda: requests.get(berthd.url + "/v1/status/leader", timeout=5)
                    .status_code == 200, 5)


def test_connections_capped_in_all(berthd_factory, tmp_path):
    berthd = start_with_config(berthd_factory, tmp_path, http_max_connections=3)
    held, refusal = hold_until_refused(berthd, 3)
    assert len(held) == 3
    assert_json_message(refusal, 503, "http_max_connections")
    for s in held:
        s.close()
    assert wait_for(lambda: requests.get(berthd.url + "/v1/status/leader", timeout=5)
                    .status_code == 200, 5)


def test_config_limits_are_checked(berthd_factory, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[berthd]\nhttp_max_header_bytes=100000000\n")
    b = berthd_factory(start=False)
    b.start(extra_args=["--config", str(conf)], wait=False)
    assert b.wait_exit() != 0
    assert "http_max_header_bytes" in b.stderr()


# -- item 5: a huge Content-Length is refused before the body ----------------

def test_huge_content_length_refused_before_the_body(berthd):
    rss_before = rss_kib(berthd)
    with connect(berthd) as s:
        s.sendall(b"PUT /v1/kv/huge HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 2000000000\r\n\r\n")
        # not one byte of the body sent: the answer must come anyway
        assert select.select([s], [], [], 5 * berthd.TIME_SCALE)[0], \
            "no answer before the body was sent"
        assert_json_message(read_reply(s), 413, "2000000000")

    # a client that streams 200 MB regardless: berthd does not keep them
    chunk = b"x" * 65536
    with connect(berthd) as s:
        s.sendall(b"PUT /v1/kv/huge HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 2000000000\r\n\r\n")
        sent = 0
        try:
            while sent < 200 * 1024 * 1024:
                if select.select([s], [], [], 0)[0]:
                    break
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_reply(s)
        assert_json_message(reply, 413)
    assert rss_kib(berthd) < rss_before + 50 * 1024, \
        f"RSS grew from {rss_before} KiB to {rss_kib(berthd)} KiB"
    assert berthd.get("/v1/kv/huge").status_code == 404
    assert_alive(berthd)


# -- item 11: oversized heads get answers, not resets ------------------------

def test_long_url_is_414(berthd):
    with connect(berthd) as s:
        s.sendall(b"GET /v1/kv/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_json_message(read_reply(s), 414, "8192")
    assert_alive(berthd)


def test_huge_header_is_431(berthd):
    with connect(berthd) as s:
        s.sendall(b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nX-Big: "
                  + b"b" * 100_000 + b"\r\n\r\n")
        assert_json_message(read_reply(s), 431, "32768")
    assert_alive(berthd)


def test_too_many_headers_is_431(berthd):
    head = b"GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n"
    head += b"".join(b"X-H%d: v\r\n" % i for i in range(500))
    with connect(berthd) as s:
        s.sendall(head + b"\r\n")
        assert_json_message(read_reply(s), 431, "100 header fields")
    assert_alive(berthd)


def test_headers_within_limits_still_served(berthd):
    # below the limits: 8 KiB URL, 20 KiB header, 91 header fields
    with connect(berthd) as s:
        head = b"GET /v1/kv/" + b"k" * 8000 + b" HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000
        head += b"\r\nX-Consul-Token: " + berthd.token.encode()
        head += b"\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(88)) + b"\r\n"
        s.sendall(head)
        reply = read_reply(s)
        assert reply is not None and reply[0] == 404, reply


def test_unix_socket_http10_without_host(berthd):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(berthd.socket))
        s.sendall(b"GET /v1/status/leader HTTP/1.0\r\n\r\n")
        assert_json_message(read_reply(s), 400, "Host")
    assert "CRITICAL" not in berthd.stderr()
    assert_alive(berthd)


# -- item 8: cross-site requests ---------------------------------------------

APP = json.dumps({"id": "/csrf", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "instances": 0})
SERVICE = json.dumps({"Name": "csrf", "Port": 80})


def test_cross_site_text_plain_app_is_refused(berthd):
    r = berthd.request("POST", "/v2/apps", data=APP, headers={
        "Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert r.status_code == 403, r.text
    assert "evil.example" in r.json()["message"]
    assert berthd.get("/v2/apps/csrf").status_code == 404


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "text/plain;charset=UTF-8"])
def test_form_bodies_are_not_json(berthd, ctype):
    r = berthd.request("POST", "/v2/apps", data=APP, headers={"Content-Type": ctype})
    assert r.status_code == 415, r.text
    assert "application/json" in r.json()["message"]
    r = berthd.put("/v1/agent/service/register", data=SERVICE, headers={"Content-Type": ctype})
    assert r.status_code == 415, r.text
    assert "csrf" not in berthd.get("/v1/agent/services").json()


def test_other_non_json_types_refused_where_json_is_taken(berthd):
    r = berthd.put("/v1/agent/service/register", data=SERVICE,
                   headers={"Content-Type": "application/xml"})
    assert r.status_code == 415, r.text


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_sec_fetch_site_cross_site_is_refused(berthd, site):
    r = berthd.put("/v1/kv/csrf", data=b"x", headers={"Sec-Fetch-Site": site})
    assert r.status_code == 403, r.text
    # Consul's GET that changes state
    r = berthd.get("/v1/agent/check/pass/none", headers={"Sec-Fetch-Site": site})
    assert r.status_code == 403, r.text
    # reading is fine
    assert berthd.get("/v1/status/leader", headers={"Sec-Fetch-Site": site}).status_code == 200
    assert berthd.get("/v1/kv/csrf").status_code == 404


def test_same_origin_and_plain_clients_still_work(berthd):
    origin = f"http://127.0.0.1:{berthd.port}"
    r = berthd.put("/v1/agent/service/register", data=SERVICE, headers={
        "Content-Type": "application/json", "Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200, r.text
    # python-consul: no Content-Type at all
    c = berthd.consul()
    c.agent.service.register("plain", service_id="plain1", port=81)
    assert "plain1" in c.agent.services()
    assert c.kv.put("k", "v")
    # Consul's documented `curl -X PUT -d value` sends a form type: KV stores bytes
    r = berthd.put("/v1/kv/form", data=b"a=b",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert berthd.get("/v1/kv/form?raw").content == b"a=b"
    # the berth CLI labels its bodies application/octet-stream
    r = berthd.put("/v1/agent/service/register", data=SERVICE,
                   headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text


def test_allowed_origins_are_configurable(berthd_factory, tmp_path):
    berthd = start_with_config(berthd_factory, tmp_path,
                               http_allowed_origins="http://ui.example:3000")
    r = berthd.put("/v1/kv/x", data=b"1", headers={"Origin": "http://ui.example:3000",
                                                   "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200, r.text
    r = berthd.put("/v1/kv/x", data=b"1", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403, r.text
