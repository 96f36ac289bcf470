# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthd as a process: status endpoints, locking, binding rules, plugins,
signals, the unix socket."""

import os
import re
import signal
import stat
import subprocess
import time

import requests


def plugin(status, name):
    matches = [p for p in status["plugins"] if p["name"] == name]
    assert len(matches) == 1, f"plugin {name!r} in {status['plugins']!r}"
    return matches[0]


def test_consul_status_endpoints(berthd):
    r = berthd.get("/v1/status/leader")
    assert r.status_code == 200
    leader = r.json()
    assert isinstance(leader, str) and re.fullmatch(r"[\d.]+:\d+", leader), leader

    r = berthd.get("/v1/status/peers")
    assert r.status_code == 200
    assert r.json() == [leader]

    r = berthd.get("/v1/agent/self")
    assert r.status_code == 200
    config = r.json()["Config"]
    assert config["Datacenter"] == "dc1"
    assert isinstance(config["NodeName"], str) and config["NodeName"]

    r = berthd.get("/v1/catalog/datacenters")
    assert r.status_code == 200
    assert r.json() == ["dc1"]

    c = berthd.consul()
    assert c.status.leader() == leader
    assert c.agent.self()["Config"]["Datacenter"] == "dc1"
    assert c.catalog.datacenters() == ["dc1"]


def test_api_status(berthd):
    r = berthd.get("/api/status")
    assert r.status_code == 200
    st = r.json()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", st["version"])
    node = berthd.get("/v1/agent/self").json()["Config"]["NodeName"]
    assert st["node"] == node
    assert st["datacenter"] == "dc1"
    assert isinstance(st["index"], int)
    assert isinstance(st["uptime_seconds"], (int, float)) and st["uptime_seconds"] >= 0
    assert os.path.samefile(st["state_dir"], berthd.state_dir)
    assert st["http_addr"] == berthd.http_addr
    assert os.path.samefile(st["socket"], berthd.socket)
    d = plugin(st, "discovery")
    assert d["state"] == "running"
    assert d["error"] is None

    # the index reported here follows the store
    berthd.consul().kv.put("bump", "1")
    assert berthd.get("/api/status").json()["index"] > st["index"]


def test_version_flag(berth_env):
    p = subprocess.run([str(berth_env.berthd), "--version"], capture_output=True,
                       text=True, timeout=10 * berth_env.time_scale,
                       env=berth_env.child_env())
    assert p.returncode == 0, p.stderr
    assert re.search(r"\d+\.\d+\.\d+", p.stdout), p.stdout


def test_state_dir_is_created(berthd_factory, tmp_path):
    b = berthd_factory(start=False, state_dir=tmp_path / "new" / "nested" / "state",
                       create_state_dir=False)
    b.start()
    assert b.state_dir.is_dir()
    assert b.consul().kv.put("x", "y") is True


def test_second_instance_on_same_state_dir_refused(berthd_factory):
    first = berthd_factory()
    c = first.consul()
    c.kv.put("mine", "first")

    second = berthd_factory(name="second", start=False, state_dir=first.state_dir)
    second.start(wait=False)
    rc = second.wait_exit()
    assert rc != 0
    err = second.stderr()
    assert re.search(r"lock|another|already running", err, re.I), err

    # the first keeps working, on TCP and on its socket
    assert c.kv.put("mine", "still") is True
    assert c.kv.get("mine")[1]["Value"] == b"still"
    assert first.socket.exists()
    assert first.unix_request("GET", "/v1/kv/mine?raw").body == b"still"
    # nothing listens on the second one's port
    try:
        requests.get(second.url + "/v1/status/leader", timeout=2)
        raise AssertionError("the refused instance is answering on its port")
    except requests.ConnectionError:
        pass


def test_non_loopback_bind_refused_without_insecure(berthd_factory):
    b = berthd_factory(start=False)
    b.start(wait=False, http_addr=f"0.0.0.0:{b.port}")
    rc = b.wait_exit()
    assert rc != 0
    err = b.stderr()
    assert re.search(r"insecure|loopback", err, re.I), err
    try:
        requests.get(b.url + "/v1/status/leader", timeout=2)
        raise AssertionError("berthd answers on a refused address")
    except requests.ConnectionError:
        pass


def test_non_loopback_bind_allowed_with_insecure(berthd_factory):
    b = berthd_factory(start=False)
    b.start(["--insecure"], http_addr=f"0.0.0.0:{b.port}")
    assert b.consul().kv.put("open", "yes") is True


def test_disable_plugin(berthd_factory):
    # the Consul API (/v1/status/leader included) belongs to discovery
    b = berthd_factory(start=False)
    b.start(["--disable-plugin", "discovery"], ready_path="/api/status")
    r = b.get("/v1/kv/x")
    assert r.status_code == 404
    r = b.put("/v1/kv/x", data=b"v")
    assert r.status_code == 404, r.text
    assert r.json()["message"]
    st = b.get("/api/status").json()
    assert plugin(st, "discovery")["state"] == "disabled"
    assert plugin(st, "discovery")["error"] is None


def test_broken_plugin_is_reported_not_fatal(berthd_factory, berth_env, tmp_path):
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "berth-broken.so").write_bytes(b"\x7fELF this is not a shared object\n" * 64)
    assert berth_env.discovery_plugin.exists(), berth_env.discovery_plugin
    (plugin_dir / "berth-discovery.so").symlink_to(berth_env.discovery_plugin)

    b = berthd_factory(extra_args=["--plugin-dir", plugin_dir])
    st = b.get("/api/status").json()
    broken = [p for p in st["plugins"] if "broken" in p["name"]]
    assert len(broken) == 1, st["plugins"]
    assert broken[0]["state"] == "failed"
    assert isinstance(broken[0]["error"], str) and broken[0]["error"]
    assert plugin(st, "discovery")["state"] == "running"

    c = b.consul()
    assert c.kv.put("works", "yes") is True
    assert c.kv.get("works")[1]["Value"] == b"yes"


def test_sigterm_exits_0_and_removes_socket(berthd):
    assert berthd.socket.exists()
    berthd.stop(signal.SIGTERM)  # asserts exit status 0
    assert not berthd.socket.exists()


def test_sigint_exits_0(berthd):
    berthd.stop(signal.SIGINT)
    assert not berthd.socket.exists()


def test_unix_socket_answers_http(berthd):
    st = os.stat(berthd.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)

    r = berthd.unix_request("GET", "/v1/status/leader")
    assert r.status == 200
    assert r.headers["X-Consul-KnownLeader"] == "true"

    r = berthd.unix_request("PUT", "/v1/kv/via/socket", body=b"sock")
    assert r.status == 200 and r.json() is True
    # seen on TCP too: one store behind both doors
    assert berthd.consul().kv.get("via/socket")[1]["Value"] == b"sock"

    r = berthd.unix_request("GET", "/v1/nope")
    assert r.status == 404 and r.json()["message"]


def test_unix_socket_with_curl(berthd):
    berthd.consul().kv.put("curl", "ok")
    p = subprocess.run(["curl", "-sS", "--unix-socket", str(berthd.socket),
                        "http://localhost/v1/kv/curl?raw"],
                       capture_output=True, timeout=10 * berthd.TIME_SCALE)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"ok"


def test_sighup_does_not_kill(berthd):
    c = berthd.consul()
    c.kv.put("hup", "before")
    berthd.send_signal(signal.SIGHUP)
    # a fatal signal would end it at once; give it a moment to prove otherwise
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert berthd.running, f"berthd died on SIGHUP (status {berthd.proc.poll()})"
        time.sleep(0.05)
    assert c.kv.get("hup")[1]["Value"] == b"before"
    assert c.kv.put("hup", "after") is True
    assert berthd.unix_request("GET", "/v1/kv/hup?raw").body == b"after"
    # and it still shuts down cleanly (checked by the fixture: exit 0)
