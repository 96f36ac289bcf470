# SPDX-License-Identifier: LGPL-2.1-or-later
"""The core's one dispatch path: every HTTP call, on TCP and on the unix
socket, is decided by the registered authority before its handler runs,
with the caller the front door established.  The authority here is the
test plugin tests/plugins/testauth (its rules are in its header comment),
loaded next to the real plugins."""

import os
import time

import consul
import pytest

TESTAUTH = "plugins/testauth/berth-testauth.so"


@pytest.fixture
def guarded(berthd_factory, berth_env, tmp_path):
    testauth = berth_env.build_dir / "tests" / TESTAUTH
    if not testauth.exists():
        pytest.fail(f"{testauth} was not built")
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "berth-testauth.so").symlink_to(testauth)
    (plugin_dir / "berth-discovery.so").symlink_to(berth_env.discovery_plugin)
    return berthd_factory(extra_args=["--plugin-dir", plugin_dir])


def test_authority_decides_before_the_handler(guarded):
    c = guarded.consul()
    assert c.kv.put("open/a", "1") is True
    with pytest.raises(consul.base.ConsulException) as e:
        c.kv.put("locked/a", "1")
    assert "locked" in str(e.value)
    # refused before the handler ran: nothing was written
    assert c.kv.get("locked/a")[1] is None
    # reads of the same key are allowed
    r = guarded.get("/v1/kv/locked/a")
    assert r.status_code == 404
    r = guarded.put("/v1/kv/locked/b", data=b"x")
    assert r.status_code == 403
    # Consul answers refusals on /v1 in plain text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "locked/b" in r.text


def test_tcp_caller_and_token(guarded):
    r = guarded.get("/v1/kv/whoami", headers={"X-Consul-Token": "t-123"})
    assert r.status_code == 403
    msg = r.text
    assert "caller=tcp 127.0.0.1:" in msg
    assert "token=t-123" in msg
    assert "resource=key access=read" in msg
    r = guarded.put("/v1/kv/whoami?token=q-9", data=b"x")
    assert "token=q-9" in r.text
    assert "access=write" in r.text
    r = guarded.get("/v1/kv/whoami", headers={"Authorization": "Bearer b-7"})
    assert "token=b-7" in r.text
    # marathon-python's auth_token= form, and HTTP Basic with the secret
    # as the password
    r = guarded.get("/v1/kv/whoami", headers={"Authorization": "token=m-5"})
    assert "token=m-5" in r.text
    r = guarded.get("/v1/kv/whoami", auth=("anyone", "p-4"))
    assert "token=p-4" in r.text


def test_unix_caller_has_peer_credentials(guarded):
    r = guarded.unix_request("GET", "/v1/kv/whoami")
    assert r.status == 403
    msg = r.body.decode()
    assert f"caller=unix uid={os.getuid()} pid={os.getpid()}" in msg
    assert "token=-" in msg


def test_asynchronous_decision(guarded):
    """An authority may take its time: the request waits for it, allowed
    or refused, and other requests go on meanwhile."""
    t0 = time.monotonic()
    r = guarded.put("/v1/kv/open/slow", data=b"v", headers={"X-Consul-Token": "slow"})
    assert r.status_code == 200, r.text
    assert time.monotonic() - t0 >= 0.2
    r = guarded.put("/v1/kv/locked/slow", data=b"v", headers={"X-Consul-Token": "slow"})
    assert r.status_code == 403
    assert guarded.get("/v1/kv/open/slow?raw").content == b"v"


def test_public_routes_are_seen_too(guarded):
    """Public routes are allowed by the authority, not around it."""
    r = guarded.get("/v1/status/leader")
    assert r.status_code == 200
    r = guarded.get("/v1/status/leader", headers={"X-Consul-Token": "deny-all"})
    assert r.status_code == 403
    assert r.text == "deny-all: public"
    # on Berth's own routes the refusal is JSON
    r = guarded.get("/api/status", headers={"X-Consul-Token": "deny-all"})
    assert r.status_code == 403
    assert r.json()["message"] == "deny-all: agent"
    # unknown routes are answered before any call is made
    r = guarded.get("/v1/nothing-here", headers={"X-Consul-Token": "deny-all"})
    assert r.status_code == 404


def test_authority_starts_first(guarded):
    st = guarded.get("/api/status").json()
    names = [p["name"] for p in st["plugins"]]
    assert names.index("testauth") < names.index("discovery"), names
    assert all(p["state"] == "running" for p in st["plugins"]), st["plugins"]
