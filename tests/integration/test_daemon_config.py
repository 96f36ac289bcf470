# SPDX-License-Identifier: LGPL-2.1-or-later
"""berthd's configuration file: required plugins, and SIGHUP reloading."""
import signal
import subprocess
import time

import requests


def test_required_plugin_that_fails_refuses_to_start(berthd_factory, tmp_path):
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "berth-broken.so").write_bytes(b"not a shared object\n" * 32)
    conf = tmp_path / "berth.conf"
    conf.write_text("[plugins]\nrequired=broken\n")

    b = berthd_factory(start=False)
    b.start(["--config", conf, "--plugin-dir", plugin_dir], wait=False)
    rc = b.wait_exit()
    assert rc != 0
    err = b.stderr()
    assert "Required plugin broken" in err, err
    # it never listened
    try:
        requests.get(b.url + "/api/status", timeout=1)
        assert False, "berthd answered although a required plugin failed"
    except requests.ConnectionError:
        pass


def test_required_plugin_missing_refuses_to_start(berthd_factory, tmp_path):
    conf = tmp_path / "berth.conf"
    conf.write_text("[plugins]\nrequired=nosuchplugin\n")
    b = berthd_factory(start=False)
    b.start(["--config", conf], wait=False)
    assert b.wait_exit() != 0
    assert "nosuchplugin" in b.stderr()


def test_bad_config_value_is_a_clear_error(berthd_factory, tmp_path):
    conf = tmp_path / "berth.conf"
    conf.write_text("[berthd]\nsync=sometimes\n")
    b = berthd_factory(start=False)
    b.start(["--config", conf], wait=False)
    assert b.wait_exit() != 0
    assert "sync" in b.stderr() and "sometimes" in b.stderr()


def test_sighup_reloads_the_config_file(berthd_factory, tmp_path):
    conf = tmp_path / "berth.conf"
    conf.write_text("[discovery]\nmax_value_bytes=1024\n")
    b = berthd_factory(extra_args=["--config", conf])

    assert b.put("/v1/kv/small", data=b"x" * 1024).status_code == 200
    assert b.put("/v1/kv/big", data=b"x" * 2000).status_code == 413

    conf.write_text("[discovery]\nmax_value_bytes=4096\n")
    b.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:
        r = b.put("/v1/kv/big", data=b"x" * 2000)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 200, r
    assert b.get("/v1/kv/big?raw").content == b"x" * 2000
    assert "configuration reloaded" in b.stderr()


def test_plugin_with_unresolved_symbol_is_reported(berthd_factory, berth_env, tmp_path):
    """A plugin built against another libberth (a symbol it needs is
    missing) must be refused at load, not crash berthd at its first call."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    src = tmp_path / "unresolved.c"
    src.write_text("extern unsigned long no_such_function_in_libberth (void);\n"
                   "unsigned long berth_plugin_module_get_type (void)\n"
                   "{ return no_such_function_in_libberth (); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(plugin_dir / "berth-unresolved.so"),
                    str(src)], check=True)
    (plugin_dir / "berth-discovery.so").symlink_to(berth_env.discovery_plugin)

    b = berthd_factory(extra_args=["--plugin-dir", plugin_dir])
    st = b.get("/api/status").json()
    states = {p["name"]: p for p in st["plugins"]}
    assert states["unresolved"]["state"] == "failed"
    assert "no_such_function_in_libberth" in states["unresolved"]["error"]
    assert states["discovery"]["state"] == "running"
    assert b.put("/v1/kv/still", data=b"ok").json() is True
