# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad requests get the right status, a JSON {"message": ...} body, and
leave the store exactly as it was."""

import base64
import hashlib
import json
import socket

import pytest

KIB = 1024
MIB = 1024 * 1024


def _short(value):
    """Keep snapshots small: pytest diffs of huge values take forever."""
    if value is not None and len(value) > 200:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def snapshot(berthd):
    """(X-Consul-Index, {key: (value, flags, create, modify)}) of the KV."""
    r = berthd.get("/v1/kv/?recurse")
    index = int(r.headers["X-Consul-Index"])
    if r.status_code == 404:
        return index, {}
    assert r.status_code == 200, r.text
    return index, {e["Key"]: (_short(e["Value"]), e["Flags"], e["CreateIndex"], e["ModifyIndex"])
                   for e in r.json()}


@pytest.fixture
def seeded(berthd):
    """berthd with a few keys, and the snapshot taken before the bad input."""
    c = berthd.consul()
    c.kv.put("seed/a", "alpha")
    c.kv.put("seed/b", "beta", flags=3)
    c.kv.put("target", "original")
    return berthd, snapshot(berthd)


def assert_json_error(status, headers, body, expected_status):
    assert status == expected_status, f"HTTP {status} {body[:300]!r}"
    ctype = headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), f"Content-Type {ctype!r}"
    data = json.loads(body)
    assert isinstance(data, dict), data
    assert isinstance(data.get("message"), str) and data["message"].strip(), data


def assert_same_bytes(got, want):
    """Compare large values without letting pytest diff half a megabyte."""
    if got == want:
        return
    n = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y),
             min(len(got), len(want)))
    pytest.fail(f"got {len(got)} bytes, expected {len(want)}; first difference at "
                f"offset {n}: got {got[n:n + 16]!r}, expected {want[n:n + 16]!r}",
                pytrace=False)


def check(r, expected_status):
    assert_json_error(r.status_code, r.headers, r.content, expected_status)


def test_invalid_json_txn(seeded):
    berthd, before = seeded
    r = berthd.put("/v1/txn", data=b'[{"KV": {"Verb": "set", "Key": "x", ')
    check(r, 400)
    assert snapshot(berthd) == before


@pytest.mark.parametrize("body", [b'{"KV": {"Verb": "set", "Key": "x"}}', b'"string"',
                                  b"42", b"\xff\xfe not utf-8"],
                         ids=["object", "string", "number", "not-utf8"])
def test_txn_wrong_shape(seeded, body):
    berthd, before = seeded
    r = berthd.put("/v1/txn", data=body)
    check(r, 400)
    assert snapshot(berthd) == before


def test_value_over_512_kib_rejected(seeded):
    berthd, before = seeded
    r = berthd.put("/v1/kv/target", data=b"x" * (512 * KIB + 1))
    check(r, 413)
    assert snapshot(berthd) == before
    r = berthd.put("/v1/kv/newkey", data=b"x" * (512 * KIB + 1))
    check(r, 413)
    assert snapshot(berthd) == before


def test_value_of_exactly_512_kib_accepted(berthd):
    value = bytes(range(256)) * (512 * KIB // 256)
    assert len(value) == 512 * KIB
    r = berthd.put("/v1/kv/big", data=value)
    assert r.status_code == 200, r.text[:300]
    assert r.json() is True
    r = berthd.get("/v1/kv/big?raw")
    assert r.status_code == 200
    assert_same_bytes(r.content, value)
    _, item = berthd.consul().kv.get("big")
    assert_same_bytes(item["Value"], value)


def test_txn_value_over_512_kib_rejected(seeded):
    berthd, before = seeded
    big = base64.b64encode(b"y" * (512 * KIB + 1)).decode()
    r = berthd.put("/v1/txn", json=[{"KV": {"Verb": "set", "Key": "t", "Value": big}}])
    assert r.status_code in (400, 409, 413), r.text[:300]
    assert snapshot(berthd) == before


@pytest.mark.parametrize("path", ["/v1/txn", "/v1/kv/target"])
def test_body_over_1_mib_rejected(seeded, path):
    berthd, before = seeded
    body = b"[" + b" " * (MIB + 16) + b"]"
    head = (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    reply = berthd.raw_request(head, body)
    assert reply is not None, "connection closed without an answer"
    assert_json_error(reply.status, reply.headers, reply.body, 413)
    assert snapshot(berthd) == before


def test_body_over_1_mib_chunked_rejected(seeded):
    berthd, before = seeded
    chunk = b"z" * (64 * KIB)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = (b"PUT /v1/kv/target HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    reply = berthd.raw_request(head, body)
    assert reply is not None, "connection closed without an answer"
    assert_json_error(reply.status, reply.headers, reply.body, 413)
    assert snapshot(berthd) == before


@pytest.mark.parametrize("method,path", [
    ("GET", "/v1/kv/target?index=abc"),
    ("GET", "/v1/kv/target?index=-5"),
    ("GET", "/v1/kv/target?index=1&wait=forever"),
    ("PUT", "/v1/kv/target?flags=x"),
    ("PUT", "/v1/kv/target?flags=-1"),
    ("PUT", "/v1/kv/target?flags=18446744073709551616"),
    ("PUT", "/v1/kv/target?cas=-1"),
    ("PUT", "/v1/kv/target?cas=abc"),
    ("DELETE", "/v1/kv/target?cas=-1"),
])
def test_bad_query_parameters(seeded, method, path):
    berthd, before = seeded
    r = berthd.request(method, path, data=b"changed" if method == "PUT" else None)
    check(r, 400)
    assert r.headers.get("X-Consul-Index", "").isdigit()
    assert snapshot(berthd) == before


@pytest.mark.parametrize("path", ["/v1/nope", "/nope", "/v1/kvx/a", "/api/nope"])
def test_unknown_route_is_json_404(seeded, path):
    berthd, before = seeded
    r = berthd.get(path)
    check(r, 404)
    assert snapshot(berthd) == before


def test_wrong_method_is_405_with_allow(seeded):
    berthd, before = seeded
    r = berthd.request("POST", "/v1/status/leader", data=b"x")
    check(r, 405)
    allow = r.headers.get("Allow", "")
    assert "GET" in [m.strip() for m in allow.split(",")], f"Allow: {allow!r}"
    assert "POST" not in allow
    assert snapshot(berthd) == before


def test_wrong_method_on_txn(seeded):
    berthd, before = seeded
    r = berthd.request("DELETE", "/v1/txn")
    check(r, 405)
    assert "PUT" in r.headers.get("Allow", "")
    assert snapshot(berthd) == before


def _send_and_drop(berthd, data):
    with socket.create_connection(("127.0.0.1", berthd.port), timeout=5) as s:
        s.sendall(data)
        # close without reading: the server sees EOF (or a reset) mid-request


def test_half_body_then_disconnect(seeded):
    berthd, before = seeded
    body = b"0123456789" * 100
    head = (b"PUT /v1/kv/target HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 1000\r\n\r\n")
    for cut in (0, 1, 10, 500, 999):
        _send_and_drop(berthd, head + body[:cut])
    # a half-written request line and headers
    _send_and_drop(berthd, b"PUT /v1/kv/tar")
    _send_and_drop(berthd, b"PUT /v1/kv/target HTTP/1.1\r\nContent-Le")
    # half a transaction
    txn = json.dumps([{"KV": {"Verb": "delete-tree", "Key": ""}}]).encode()
    _send_and_drop(berthd, b"PUT /v1/txn HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(txn), txn[: len(txn) // 2]))
    # half a chunked body
    _send_and_drop(berthd, b"PUT /v1/kv/target HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n5\r\nab")

    # a blocking query whose client goes away
    idx = before[0]
    _send_and_drop(berthd, b"GET /v1/kv/target?index=%d&wait=30s HTTP/1.1\r\nHost: x\r\n\r\n" % idx)

    # the daemon still answers, on every front door, and nothing changed
    assert berthd.running, "berthd died"
    r = berthd.get("/v1/status/leader")
    assert r.status_code == 200
    assert berthd.unix_request("GET", "/v1/status/leader").status == 200
    assert snapshot(berthd) == before
    # and it still takes writes, which now wake nothing that is gone
    c = berthd.consul()
    assert c.kv.put("target", "after") is True
    assert c.kv.get("target")[1]["Value"] == b"after"
    assert berthd.running


def test_garbage_request_line(seeded):
    berthd, before = seeded
    reply = berthd.raw_request(b"THIS IS NOT HTTP\r\n\r\n")
    if reply is not None:
        assert 400 <= reply.status < 500
    assert berthd.running
    assert berthd.get("/v1/status/leader").status_code == 200
    assert snapshot(berthd) == before
