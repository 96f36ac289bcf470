# SPDX-License-Identifier: LGPL-2.1-or-later
"""libberth through GObject introspection (Berth-1.0 typelib, python3-gi).

gi reads GI_TYPELIB_PATH and the library path when it is imported, so each
check runs in a fresh /usr/bin/python3 with both pointing at the build."""

import json
import subprocess
import textwrap

import pytest

PRELUDE = textwrap.dedent("""\
    import json, sys
    import gi
    gi.require_version('Berth', '1.0')
    from gi.repository import Berth, GLib
    """)


@pytest.fixture
def run_gi(berth_env):
    if berth_env.sanitized:
        pytest.skip("BERTH_SANITIZED=1: the sanitizer build has no typelib")
    typelib = berth_env.libberth_dir / "Berth-1.0.typelib"
    assert typelib.exists(), f"{typelib} missing (introspection not built?)"

    def run(code):
        env = berth_env.child_env({
            "GI_TYPELIB_PATH": berth_env.libberth_dir,
            "LD_LIBRARY_PATH": berth_env.libberth_dir,
        })
        p = subprocess.run(["/usr/bin/python3", "-c", PRELUDE + textwrap.dedent(code)],
                           capture_output=True, text=True, env=env,
                           timeout=30 * berth_env.time_scale)
        assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        return json.loads(p.stdout.strip().splitlines()[-1])

    return run


def test_new_store(run_gi, tmp_path):
    db = tmp_path / "berth.db"
    result = run_gi(f"""
        store = Berth.Store.new({str(db)!r})
        index = store.get_index()
        version = store.get_schema_version('core')
        print(json.dumps({{"index": index, "index_type": type(index).__name__,
                          "version": version,
                          "version_type": type(version).__name__}}))
    """)
    assert result["index"] == 0
    assert result["index_type"] == "int"
    assert result["version_type"] == "int"
    assert result["version"] >= 1
    assert db.exists()


def test_reopen_store_keeps_schema(run_gi, tmp_path):
    db = tmp_path / "berth.db"
    result = run_gi(f"""
        first = Berth.Store.new({str(db)!r})
        v1 = first.get_schema_version('core')
        del first
        import gc; gc.collect()
        second = Berth.Store.new({str(db)!r})
        print(json.dumps({{"v1": v1, "v2": second.get_schema_version('core'),
                          "index": second.get_index()}}))
    """)
    assert result["v1"] == result["v2"] >= 1
    assert result["index"] == 0


def test_open_in_missing_directory_raises_glib_error(run_gi, tmp_path):
    bad = tmp_path / "does" / "not" / "exist" / "berth.db"
    result = run_gi(f"""
        try:
            Berth.Store.new({str(bad)!r})
            outcome = {{"raised": None}}
        except GLib.Error as e:
            outcome = {{"raised": "GLib.Error", "message": e.message, "domain": e.domain}}
        print(json.dumps(outcome))
    """)
    assert result["raised"] == "GLib.Error", result
    assert result["message"]
    assert not bad.parent.exists()
