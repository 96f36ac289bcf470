# SPDX-License-Identifier: LGPL-2.1-or-later
"""Zones: every listener serves the routes of its zone and the zones below
(public < private < admin); elsewhere a route answers 404 as if it did not
exist."""

import stat
import subprocess

import pytest
import requests

from tests.conftest import BERTHD, child_env, free_port


@pytest.fixture
def zoned(berthd_factory):
    public, admin = free_port(), free_port()
    b = berthd_factory(extra_args=["--listen", f"public=127.0.0.1:{public}",
                                   "--listen", f"admin=127.0.0.1:{admin}"])
    b.public_url = f"http://127.0.0.1:{public}"
    b.admin_url = f"http://127.0.0.1:{admin}"
    return b


def test_public_listener_serves_only_public_routes(zoned):
    r = requests.get(zoned.public_url + "/v1/status/leader", timeout=10)
    assert r.status_code == 200
    # the KV store exists on the private listener, not on the public one
    assert zoned.put("/v1/kv/zone-test", data=b"v").status_code == 200
    r = requests.get(zoned.public_url + "/v1/kv/zone-test", timeout=10)
    assert r.status_code == 404
    assert "No such endpoint" in r.text
    # not even a 405 gives the route away
    r = requests.post(zoned.public_url + "/v1/kv/zone-test", timeout=10)
    assert r.status_code == 404


def test_admin_routes_only_on_admin_listeners(zoned):
    routes = zoned.unix_request("GET", "/api/routes").json()
    admin = [r for r in routes if r["zone"] == "admin"]
    assert admin, "no admin-only route declared"
    join = next(r for r in routes if r["pattern"] == "/v1/agent/join/:address")
    assert join["zone"] == "admin"
    # a join is admin-only: absent on the private listener…
    r = zoned.put("/v1/agent/join/127.0.0.1:1")
    assert r.status_code == 404 and "No such endpoint" in r.text
    # …present on the admin listener (it fails for its own reasons)
    r = requests.put(zoned.admin_url + "/v1/agent/join/127.0.0.1:1", timeout=30,
                     headers={"X-Consul-Token": zoned.token or ""})
    assert "No such endpoint" not in r.text
    # and the admin listener serves the private routes too
    r = requests.get(zoned.admin_url + "/v1/kv/?recurse", timeout=10,
                     headers={"X-Consul-Token": zoned.token})
    assert r.status_code in (200, 404)
    assert "No such endpoint" not in r.text


def test_every_route_has_a_zone(zoned):
    routes = zoned.unix_request("GET", "/api/routes").json()
    assert len(routes) > 50
    for r in routes:
        assert r["zone"] in ("public", "private", "admin"), r
        if r["resource"] == "public":
            assert r["zone"] == "public" and r["access"] == "none", r
        else:
            assert r["access"] in ("read", "write"), r


def test_unix_socket_is_owner_only(berthd):
    mode = stat.S_IMODE(berthd.socket.stat().st_mode)
    assert mode == 0o600, oct(mode)


@pytest.mark.parametrize("spec, words", [
    ("bogus=127.0.0.1:1", "unknown zone"),
    ("127.0.0.1:1", "ZONE=HOST:PORT"),
    ("admin=", "ZONE=HOST:PORT"),
])
def test_bad_listen_is_refused(tmp_path, spec, words):
    p = subprocess.run([str(BERTHD), "--state-dir", str(tmp_path / "s"),
                        "--http-addr", f"127.0.0.1:{free_port()}", "--listen", spec],
                       capture_output=True, text=True, timeout=30, env=child_env())
    assert p.returncode != 0
    assert words in p.stderr
