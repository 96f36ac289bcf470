# SPDX-License-Identifier: LGPL-2.1-or-later
"""The event bus seen through /api/events: every successful write call
becomes an `api.write` event carrying the caller the front door
established; followers get new events as they happen."""

import json
import os
import socket
import time


def api_writes(b, since=0):
    r = b.get(f"/api/events?topic=api.write&since={since}")
    assert r.status_code == 200, r.text
    return r.json()


def test_write_calls_become_events_with_their_caller(berthd):
    before = api_writes(berthd)
    last = before[-1]["sequence"] if before else 0
    r = berthd.put("/v1/kv/audit/a", data=b"1", headers={"X-Consul-Token": berthd.token})
    assert r.status_code == 200
    events = api_writes(berthd, last)
    assert len(events) == 1, events
    e = events[0]
    assert e["topic"] == "api.write"
    assert e["data"]["operation"] == "PUT /v1/kv/*key"
    assert e["data"]["resource"] == "key"
    assert e["data"]["name"] == "audit/a"
    assert e["data"]["status"] == 200
    assert e["caller"].startswith("tcp 127.0.0.1:")
    # the token is the caller's secret: never in an event
    assert berthd.token not in json.dumps(e)
    assert e["index"] >= 1 and e["timestamp"].endswith("Z")

    r = berthd.unix_request("DELETE", "/v1/kv/audit/a")
    assert r.status == 200
    e = api_writes(berthd, e["sequence"])[0]
    assert e["caller"] == f"unix uid={os.getuid()} pid={os.getpid()}"
    assert e["data"]["operation"] == "DELETE /v1/kv/*key"


def test_reads_and_failed_writes_are_not_write_events(berthd):
    start = berthd.get("/api/events").json()
    seq = start[-1]["sequence"] if start else 0
    assert berthd.get("/v1/kv/nothing").status_code == 404
    assert berthd.put("/v1/kv/x?cas=notanumber", data=b"1").status_code == 400
    assert api_writes(berthd, seq) == []


def test_follow_streams_new_events(berthd):
    with socket.create_connection((berthd.host, berthd.port), timeout=10) as s:
        s.sendall(b"GET /api/events?follow&topic=api.write HTTP/1.1\r\nHost: x\r\n"
                  b"X-Consul-Token: " + berthd.token.encode() + b"\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert b" 200 " in head.split(b"\r\n")[0]
        assert b"application/x-ndjson" in head
        time.sleep(0.2)
        assert berthd.put("/v1/kv/followed", data=b"v").status_code == 200
        data = head.split(b"\r\n\r\n", 1)[1]
        deadline = time.monotonic() + 10
        while b"followed" not in data and time.monotonic() < deadline:
            data += s.recv(4096)
        assert b'"name":"followed"' in data


def test_bad_parameters(berthd):
    r = berthd.get("/api/events?since=-1")
    assert r.status_code == 400
    assert "since" in r.json()["message"]
    r = berthd.get("/api/events?follow=perhaps")
    assert r.status_code == 400
