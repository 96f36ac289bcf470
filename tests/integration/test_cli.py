# SPDX-License-Identifier: LGPL-2.1-or-later
"""The `berth` command-line client against a real berthd.

Syntax under test:
  berth [--address HOST:PORT] [--socket PATH] [--token T] COMMAND
  berth status [--json]
  berth kv get KEY [--json] [--watch]
  berth kv put KEY [VALUE|-] [--flags N] [--cas N]
  berth kv delete KEY [--recurse] [--cas N]
  berth kv list [PREFIX] [--recurse] [--json]
Exit status: 0 ok, 1 error (message on stderr starting "berth: "), 2 usage.
"""

import json
import queue
import subprocess
import threading
import time

import pytest


def assert_error(rc, out, err, expected_rc=1):
    assert rc == expected_rc, f"exit {rc}, stdout {out!r}, stderr {err!r}"
    if expected_rc == 1:
        assert err.startswith("berth: "), f"stderr {err!r}"
        assert len(err.strip()) > len("berth:"), f"stderr {err!r}"
    else:
        assert err.strip(), "usage error without a message"


def contains_string(obj, text):
    """Does the JSON value `obj` hold the string `text` somewhere?"""
    if isinstance(obj, str):
        return obj == text
    if isinstance(obj, dict):
        return any(contains_string(v, text) for v in obj.values())
    if isinstance(obj, list):
        return any(contains_string(v, text) for v in obj)
    return False


def test_status(berthd, run_cli):
    node = berthd.get("/v1/agent/self").json()["Config"]["NodeName"]
    rc, out, err = run_cli(["status"], berthd=berthd)
    assert rc == 0, err
    assert node in out
    assert "dc1" in out


def test_status_json(berthd, run_cli):
    node = berthd.get("/v1/agent/self").json()["Config"]["NodeName"]
    rc, out, err = run_cli(["status", "--json"], berthd=berthd)
    assert rc == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    assert contains_string(data, "dc1"), data
    assert contains_string(data, node), data


def test_address_flag(berthd, run_cli):
    rc, out, err = run_cli(["--address", berthd.http_addr, "status"],
                           env={"BERTH_TOKEN": berthd.token})
    assert rc == 0, err
    assert "dc1" in out


def test_socket_flag(berthd, run_cli):
    rc, out, err = run_cli(["--socket", berthd.socket, "kv", "put", "sock/key", "via-socket"])
    assert rc == 0, err
    assert berthd.consul().kv.get("sock/key")[1]["Value"] == b"via-socket"
    rc, out, err = run_cli(["--socket", berthd.socket, "kv", "get", "sock/key"])
    assert rc == 0, err
    assert out.rstrip("\n") == "via-socket"
    rc, out, err = run_cli(["--socket", berthd.socket, "status"])
    assert rc == 0, err
    assert "dc1" in out


def test_kv_put_get_delete(berthd, run_cli):
    c = berthd.consul()
    rc, out, err = run_cli(["kv", "put", "cli/key", "hello world"], berthd=berthd)
    assert rc == 0, err
    assert c.kv.get("cli/key")[1]["Value"] == b"hello world"

    rc, out, err = run_cli(["kv", "get", "cli/key"], berthd=berthd)
    assert rc == 0, err
    assert out.rstrip("\n") == "hello world"

    rc, out, err = run_cli(["kv", "delete", "cli/key"], berthd=berthd)
    assert rc == 0, err
    assert c.kv.get("cli/key")[1] is None


def test_kv_get_json(berthd, run_cli):
    berthd.consul().kv.put("cli/j", "jv", flags=5)
    rc, out, err = run_cli(["kv", "get", "cli/j", "--json"], berthd=berthd)
    assert rc == 0, err
    data = json.loads(out)
    entry = data[0] if isinstance(data, list) else data
    assert entry["Key"] == "cli/j"
    assert entry["Flags"] == 5


def test_kv_put_from_stdin(berthd, run_cli):
    payload = b"line one\nline two\n\x00\xff binary tail"
    rc, out, err = run_cli(["kv", "put", "cli/stdin", "-"], berthd=berthd, input=payload)
    assert rc == 0, err
    assert berthd.consul().kv.get("cli/stdin")[1]["Value"] == payload


def test_kv_put_flags(berthd, run_cli):
    rc, out, err = run_cli(["kv", "put", "cli/f", "v", "--flags", "42"], berthd=berthd)
    assert rc == 0, err
    assert berthd.consul().kv.get("cli/f")[1]["Flags"] == 42


def test_kv_get_missing(berthd, run_cli):
    rc, out, err = run_cli(["kv", "get", "cli/missing"], berthd=berthd)
    assert_error(rc, out, err, 1)
    assert out == ""


def test_kv_put_cas(berthd, run_cli):
    c = berthd.consul()
    c.kv.put("cli/cas", "v1")
    mi = c.kv.get("cli/cas")[1]["ModifyIndex"]

    rc, out, err = run_cli(["kv", "put", "cli/cas", "v2", "--cas", mi + 1000], berthd=berthd)
    assert_error(rc, out, err, 1)
    assert c.kv.get("cli/cas")[1]["Value"] == b"v1"

    rc, out, err = run_cli(["kv", "put", "cli/cas", "v3", "--cas", mi], berthd=berthd)
    assert rc == 0, err
    assert c.kv.get("cli/cas")[1]["Value"] == b"v3"


def test_kv_delete_cas(berthd, run_cli):
    c = berthd.consul()
    c.kv.put("cli/dc", "v")
    mi = c.kv.get("cli/dc")[1]["ModifyIndex"]
    rc, out, err = run_cli(["kv", "delete", "cli/dc", "--cas", mi + 1000], berthd=berthd)
    assert_error(rc, out, err, 1)
    assert c.kv.get("cli/dc")[1] is not None
    rc, out, err = run_cli(["kv", "delete", "cli/dc", "--cas", mi], berthd=berthd)
    assert rc == 0, err
    assert c.kv.get("cli/dc")[1] is None


def test_kv_list_and_delete_recurse(berthd, run_cli):
    c = berthd.consul()
    for k in ("l/a", "l/b/c", "l/b/d", "lz"):
        c.kv.put(k, "x")

    rc, out, err = run_cli(["kv", "list", "l/", "--recurse"], berthd=berthd)
    assert rc == 0, err
    assert out.split() == ["l/a", "l/b/c", "l/b/d"]

    rc, out, err = run_cli(["kv", "list", "l/"], berthd=berthd)
    assert rc == 0, err
    assert out.split() == ["l/a", "l/b/"]

    rc, out, err = run_cli(["kv", "list", "--recurse"], berthd=berthd)
    assert rc == 0, err
    assert out.split() == ["l/a", "l/b/c", "l/b/d", "lz"]

    rc, out, err = run_cli(["kv", "list", "l/", "--recurse", "--json"], berthd=berthd)
    assert rc == 0, err
    data = json.loads(out)
    assert isinstance(data, list)
    keys = [d if isinstance(d, str) else d["Key"] for d in data]
    assert keys == ["l/a", "l/b/c", "l/b/d"]

    rc, out, err = run_cli(["kv", "delete", "l/", "--recurse"], berthd=berthd)
    assert rc == 0, err
    assert c.kv.get("", keys=True)[1] == ["lz"]


@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["kv", "frobnicate"],
    ["kv", "get"],
    ["kv", "put"],
    ["status", "--no-such-option"],
    [],
], ids=["unknown-command", "unknown-kv-command", "get-no-key", "put-no-key",
        "unknown-option", "no-command"])
def test_usage_errors(berthd, run_cli, args):
    before = berthd.get("/v1/kv/?recurse").headers["X-Consul-Index"]
    rc, out, err = run_cli(args, berthd=berthd)
    assert_error(rc, out, err, 2)
    assert berthd.get("/v1/kv/?recurse").headers["X-Consul-Index"] == before


def test_cannot_connect(berth_env, run_cli, tmp_path):
    port = berth_env.free_port()
    rc, out, err = run_cli(["status"], env={"BERTH_HTTP_ADDR": f"127.0.0.1:{port}"})
    assert_error(rc, out, err, 1)
    rc, out, err = run_cli(["kv", "get", "x"], env={"BERTH_HTTP_ADDR": f"127.0.0.1:{port}"})
    assert_error(rc, out, err, 1)
    rc, out, err = run_cli(["--socket", tmp_path / "no.sock", "status"])
    assert_error(rc, out, err, 1)


def test_kv_get_watch(berthd, berth_env):
    c = berthd.consul()
    c.kv.put("cli/watched", "first")

    proc = subprocess.Popen(
        [str(berth_env.berth), "kv", "get", "cli/watched", "--watch"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=berth_env.child_env({"BERTH_HTTP_ADDR": berthd.http_addr,
                                 "BERTH_TOKEN": berthd.token}))
    lines = queue.Queue()

    def reader():
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()

    def wait_for(text, timeout):
        deadline = time.monotonic() + timeout * berthd.TIME_SCALE
        seen = []
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} line within {timeout}s; saw {seen!r}"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, (f"watch exited ({proc.poll()}) before printing "
                                      f"{text!r}; saw {seen!r}; stderr "
                                      f"{proc.stderr.read().decode(errors='replace')!r}")
            seen.append(line)
            if line == text:
                return

    try:
        wait_for("first", 10)
        assert c.kv.put("cli/watched", "second") is True
        wait_for("second", 5)
        assert c.kv.put("cli/watched", "third") is True
        wait_for("third", 5)
        assert proc.poll() is None, "watch exited on its own"
    finally:
        proc.kill()
        proc.wait()
