# SPDX-License-Identifier: LGPL-2.1-or-later
"""The audit trail: every state-changing and every refused request is a
row of a hash chain in the store (GET /v1/audit, admin zone), written in
the transaction of the change it records; `berth audit verify` recomputes
the chain and names the first row changed or removed (directly in
berth.db, berthd stopped); retention leaves a signed checkpoint; a damaged
store is refused at start and `berthd --repair` recovers it."""

import json
import os
import signal
import sqlite3
import subprocess
import time

import requests

# only what these tests need: security (the audit) and discovery (KV)
ARGS = ["--disable-plugin", "runtime", "--disable-plugin", "scheduler"]


def start(berthd_factory, tmp_path, config=None):
    args = list(ARGS)
    if config is not None:
        conf = tmp_path / "berth.conf"
        conf.write_text(config)
        args += ["--config", str(conf)]
    return berthd_factory(extra_args=args)


def audit_rows(b, after=0):
    r = b.unix_request("GET", f"/v1/audit?after={after}")
    assert r.status == 200, r
    return r.json()


def rows_for(b, path_prefix):
    return [r for r in audit_rows(b) if (r["path"] or "").startswith(path_prefix)]


def wait_rows(b, path_prefix, n, timeout=5):
    """Rows recorded when the reply went out land a moment after it."""
    deadline = time.monotonic() + timeout * b.TIME_SCALE
    while True:
        rows = rows_for(b, path_prefix)
        if len(rows) >= n and all(r["status"] is not None for r in rows):
            return rows
        if time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def accessor_of(b, secret):
    r = b.unix_request("GET", "/v1/acl/token/self", headers={"X-Consul-Token": secret})
    assert r.status == 200, r
    return r.json()["AccessorID"]


def cli(run_cli, b, *args):
    return run_cli(["--socket", str(b.socket), "audit", *args], env={"BERTH_TOKEN": b.token or ""})


def test_writes_and_refusals_are_rows_reads_are_not(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path)
    c = b.consul()
    assert c.kv.put("audit/a", "1") is True
    assert c.kv.put("audit/b", "2") is True
    assert c.kv.delete("audit/a") is True
    _, entry = c.kv.get("audit/b")
    assert entry["Value"] == b"2"
    # a write that changes nothing (cas on the wrong index) is still a write call
    assert c.kv.put("audit/b", "3", cas=1) is False
    # refused: the anonymous token may neither write nor read
    anon = {"X-Consul-Token": ""}
    assert requests.put(b.url + "/v1/kv/audit/c", data=b"x", headers=anon, timeout=10).status_code == 403
    assert requests.get(b.url + "/v1/kv/audit/b", headers=anon, timeout=10).status_code == 403

    rows = wait_rows(b, "/v1/kv/audit/", 6)
    got = [(r["method"], r["path"], r["status"]) for r in rows]
    assert got == [("PUT", "/v1/kv/audit/a", 200), ("PUT", "/v1/kv/audit/b", 200),
                   ("DELETE", "/v1/kv/audit/a", 200), ("PUT", "/v1/kv/audit/b", 200),
                   ("PUT", "/v1/kv/audit/c", 403), ("GET", "/v1/kv/audit/b", 403)], rows
    # in order, each with the store index of its write
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert rows[1]["index"] == entry["ModifyIndex"]
    assert rows[0]["index"] < rows[1]["index"] < rows[2]["index"]
    me = accessor_of(b, b.token)
    for r in rows[:4]:
        assert r["accessor"] == me
        assert r["peer"].startswith("tcp 127.0.0.1:")
        assert r["zone"] == "private"
    assert rows[4]["accessor"] == "00000000-0000-0000-0000-000000000002"  # anonymous
    # the secret is nowhere in the trail
    raw = b.unix_request("GET", "/v1/audit").body.decode()
    assert b.token not in raw
    # each row follows the one before it
    every = audit_rows(b)
    for prev, row in zip(every, every[1:]):
        assert row["prev_hash"] == prev["hash"]
    # the trail is admin's: not on the private listener
    assert b.get("/v1/audit").status_code == 404


def test_verify_names_the_row_changed_or_removed(berthd_factory, tmp_path, run_cli):
    b = start(berthd_factory, tmp_path)
    c = b.consul()
    for i in range(6):
        assert c.kv.put(f"v/{i}", str(i)) is True
    rows = wait_rows(b, "/v1/kv/v/", 6)
    assert len(rows) == 6
    rc, out, err = cli(run_cli, b, "verify")
    assert rc == 0, err
    assert "verifies" in out
    rc, out, err = cli(run_cli, b, "ls")
    assert rc == 0, err
    assert "/v1/kv/v/3" in out

    db = b.state_dir / "berth.db"
    target = rows[2]["id"]

    def tamper(sql, *params):
        b.stop()
        with sqlite3.connect(db) as conn:
            conn.execute(sql, params)
        b.restart()

    # a changed path
    tamper("UPDATE audit SET path = '/v1/kv/elsewhere' WHERE id = ?", target)
    rc, out, err = cli(run_cli, b, "verify")
    assert rc == 1
    assert f"Row {target} was changed" in err
    rc, out, err = cli(run_cli, b, "--json", "verify")
    assert rc == 1 and json.loads(out)["first_bad_index"] == target
    tamper("UPDATE audit SET path = ? WHERE id = ?", rows[2]["path"], target)
    assert cli(run_cli, b, "verify")[0] == 0

    # a changed status
    tamper("UPDATE audit SET status = 500 WHERE id = ?", target)
    rc, out, err = cli(run_cli, b, "verify")
    assert rc == 1 and f"row {target} was changed" in err.lower()
    tamper("UPDATE audit SET status = 200 WHERE id = ?", target)
    assert cli(run_cli, b, "verify")[0] == 0

    # a removed row in the middle, then the last row
    removed = rows[3]["id"]
    tamper("DELETE FROM audit WHERE id = ?", removed)
    rc, out, err = cli(run_cli, b, "verify")
    assert rc == 1
    assert f"Row {removed} was removed" in err

    b2 = start(berthd_factory, tmp_path / "second")
    for i in range(3):
        assert b2.consul().kv.put(f"t/{i}", "x") is True
    last = wait_rows(b2, "/v1/kv/t/", 3)[-1]["id"]
    b2.stop()
    with sqlite3.connect(b2.state_dir / "berth.db") as conn:
        conn.execute("DELETE FROM audit WHERE id = ?", (last,))
    b2.restart()
    rc, out, err = cli(run_cli, b2, "verify")
    assert rc == 1
    assert f"Row {last} was removed" in err


def test_retention_keeps_a_signed_checkpoint(berthd_factory, tmp_path, run_cli):
    b = start(berthd_factory, tmp_path, "[security]\n")  # the default: 90 days
    c = b.consul()
    assert c.kv.put("old/a", "1") is True
    assert c.kv.put("old/b", "1") is True
    old = wait_rows(b, "/v1/kv/old/", 2)
    time.sleep(9)
    assert c.kv.put("new/a", "1") is True
    wait_rows(b, "/v1/kv/new/", 1)
    assert len(rows_for(b, "/v1/kv/old/")) == 2
    # 0.0001 days = 8.64 s; SIGHUP rereads it and expires at once (as at
    # start, and then on a timer)
    (tmp_path / "berth.conf").write_text("[security]\naudit_retention_days = 0.0001\n")
    b.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10 * b.TIME_SCALE
    while rows_for(b, "/v1/kv/old/") and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = audit_rows(b)
    assert not [r for r in rows if r["path"].startswith("/v1/kv/old/")], rows
    assert [r["path"] for r in rows if r["path"].startswith("/v1/kv/new/")] == ["/v1/kv/new/a"]
    assert rows[0]["id"] > old[-1]["id"]
    verdict = b.unix_request("GET", "/v1/audit/verify").json()
    assert verdict["ok"] is True, verdict
    assert verdict["checkpoint"]["last_id"] == rows[0]["id"] - 1
    rc, out, err = cli(run_cli, b, "verify")
    assert rc == 0 and "checkpoint" in out, err
    assert (os.stat(b.state_dir / "audit.key").st_mode & 0o777) == 0o600

    # a forged checkpoint (moved past a row) does not verify
    b.stop()
    with sqlite3.connect(b.state_dir / "berth.db") as conn:
        conn.execute("UPDATE audit_checkpoints SET last_id = last_id + 1")
    b.restart(extra_args=ARGS)
    rc, out, err = cli(run_cli, b, "verify")
    assert rc == 1 and "checkpoint" in err


def test_kill9_after_an_acknowledged_write_keeps_its_row(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path)
    c = b.consul()
    for i in range(20):
        assert c.kv.put(f"crash/{i}", str(i)) is True
    b.kill9()
    b.start(ARGS)
    _, entry = b.consul().kv.get("crash/19")
    assert entry is not None and entry["Value"] == b"19"
    rows = rows_for(b, "/v1/kv/crash/")
    assert [r["path"] for r in rows] == [f"/v1/kv/crash/{i}" for i in range(20)]
    assert rows[-1]["index"] == entry["ModifyIndex"]
    assert b.unix_request("GET", "/v1/audit/verify").json()["ok"] is True


def test_a_damaged_store_is_refused_and_repaired(berthd_factory, tmp_path, berth_env):
    b = start(berthd_factory, tmp_path)
    c = b.consul()
    for i in range(300):
        assert c.kv.put(f"bulk/{i:04d}", "x" * 2000) is True
    b.stop()
    db = b.state_dir / "berth.db"
    size = db.stat().st_size
    assert size > 64 * 4096
    with open(db, "r+b") as f:
        f.seek((size // 2) // 4096 * 4096)
        f.write(os.urandom(3 * 4096))

    b.start(ARGS, wait=False)
    assert b.wait_exit() == 1
    err = b.stderr()
    assert f"The store {db} is damaged" in err
    assert "berthd --repair" in err

    p = subprocess.run([str(berth_env.berthd), "--state-dir", str(b.state_dir), "--repair"],
                       capture_output=True, text=True, env=berth_env.child_env(), timeout=60)
    out = p.stdout + p.stderr
    assert "is damaged" in out
    kept = [n for n in os.listdir(b.state_dir) if n.startswith("berth.db.damaged-")]
    assert kept, os.listdir(b.state_dir)
    if p.returncode != 0:
        # what could not be recovered automatically is spelt out
        assert ".recover" in out and kept[0] in out
        return
    assert "usable again" in out, out
    b.start(ARGS)
    index, keys = b.consul().kv.get("bulk/", keys=True)
    assert keys and len(keys) > 0
    assert b.unix_request("GET", "/v1/audit/verify").json()["ok"] is True


def test_marathon_writes_are_rows(berthd_factory, tmp_path):
    import marathon
    from marathon.models import MarathonApp
    b = berthd_factory(extra_args=["--disable-plugin", "runtime"])
    client = marathon.MarathonClient(b.url, timeout=10, auth_token=b.token)
    client.create_app("/audited", MarathonApp(cmd="sleep 100", instances=0, cpus=0.1, mem=16))
    client.delete_app("/audited", force=True)
    rows = wait_rows(b, "/v2/apps", 2)
    # the path as the client sent it (marathon-python doubles the slash)
    assert [(r["method"], r["path"], r["status"]) for r in rows] == [
        ("POST", "/v2/apps", 201), ("DELETE", "/v2/apps//audited", 200)], rows
    assert rows[0]["operation"] == "POST /v2/apps"


def test_rate_limited_requests_are_rows(berthd_factory, tmp_path):
    """A refusal for the rate is a row; a flood of them is not a flood of
    writes: per client, the first 10 refusals of each second are rows, and
    the next row counts those left out."""
    b = start(berthd_factory, tmp_path, "[security]\nrate_limit = 1\nrate_burst = 1\n")
    t0 = time.monotonic()
    statuses = [requests.get(b.url + "/v1/kv/limited", timeout=10).status_code for _ in range(15)]
    assert time.monotonic() - t0 < 0.9, "too slow a machine for this test's window"
    refused = statuses.count(429)
    assert refused > 10, statuses
    rows = wait_rows(b, "/v1/kv/limited", 10)
    limited = [r for r in rows if r["status"] == 429]
    assert len(limited) == 10, rows
    assert all(r["method"] == "GET" for r in limited)
    time.sleep(1.1)
    # the bucket has a token again: the second request is over the rate
    later = [requests.get(b.url + "/v1/kv/limited", timeout=10).status_code for _ in range(2)]
    assert later[-1] == 429, later
    rows = wait_rows(b, "/v1/kv/limited", 11)
    limited = [r for r in rows if r["status"] == 429]
    assert len(limited) == 11, rows
    assert f"+{refused - 10} more refused from this client" in limited[10]["operation"], limited[10]
    assert b.unix_request("GET", "/v1/audit/verify").json()["ok"] is True