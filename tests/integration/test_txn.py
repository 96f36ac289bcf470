# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consul transactions: PUT /v1/txn.

python-consul 0.7 has no txn API (`hasattr(consul.Consul(), "txn")` is
False), so the requests are made with Consul's JSON through requests."""

import base64
import hashlib

import pytest


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def kv_op(verb, key, value=None, **extra):
    op = {"Verb": verb, "Key": key}
    if value is not None:
        op["Value"] = b64(value)
    op.update(extra)
    return {"KV": op}


def txn(berthd, ops):
    return berthd.put("/v1/txn", json=ops)


def _short(value):
    """Keep snapshots small: pytest diffs of huge values take forever."""
    if value is not None and len(value) > 200:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def snapshot(berthd):
    """(X-Consul-Index, {key: (value, flags, modify_index)}) of the whole KV."""
    r = berthd.get("/v1/kv/?recurse")
    index = int(r.headers["X-Consul-Index"])
    if r.status_code == 404:
        return index, {}
    assert r.status_code == 200
    return index, {e["Key"]: (_short(e["Value"]), e["Flags"], e["ModifyIndex"]) for e in r.json()}


def test_txn_set_and_get_applies_all(berthd):
    r = txn(berthd, [
        kv_op("set", "t/a", "alpha", Flags=7),
        kv_op("set", "t/b", "beta"),
        kv_op("get", "t/a"),
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Errors"] is None
    results = body["Results"]
    assert len(results) == 3
    assert [res["KV"]["Key"] for res in results] == ["t/a", "t/b", "t/a"]
    got = results[2]["KV"]
    assert base64.b64decode(got["Value"]) == b"alpha"
    assert got["Flags"] == 7
    assert r.headers["X-Consul-Index"].isdigit()

    c = berthd.consul()
    assert c.kv.get("t/a")[1]["Value"] == b"alpha"
    assert c.kv.get("t/a")[1]["Flags"] == 7
    assert c.kv.get("t/b")[1]["Value"] == b"beta"


def test_txn_is_one_write(berthd):
    """All ops of a transaction commit at the same index."""
    r = txn(berthd, [kv_op("set", "one/a", "1"), kv_op("set", "one/b", "2"),
                     kv_op("set", "one/c", "3")])
    assert r.status_code == 200, r.text
    c = berthd.consul()
    _, items = c.kv.get("one/", recurse=True)
    assert len(items) == 3
    assert len({i["ModifyIndex"] for i in items}) == 1
    assert int(r.headers["X-Consul-Index"]) >= items[0]["ModifyIndex"]


def test_txn_failing_cas_changes_nothing(berthd):
    c = berthd.consul()
    c.kv.put("acct/x", "100")
    c.kv.put("acct/y", "0")
    mi = c.kv.get("acct/x")[1]["ModifyIndex"]
    before = snapshot(berthd)

    r = txn(berthd, [
        kv_op("set", "acct/y", "100"),
        kv_op("cas", "acct/x", "0", Index=mi + 1000),   # stale index: fails
        kv_op("set", "acct/z", "new"),
        kv_op("delete", "acct/y"),
    ])
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["Results"] is None
    assert isinstance(body["Errors"], list) and len(body["Errors"]) >= 1
    assert body["Errors"][0]["OpIndex"] == 1
    assert isinstance(body["Errors"][0]["What"], str) and body["Errors"][0]["What"]

    assert snapshot(berthd) == before
    assert c.kv.get("acct/z")[1] is None


def test_txn_failing_check_index_changes_nothing(berthd):
    c = berthd.consul()
    c.kv.put("guard", "g")
    c.kv.put("data/1", "one")
    mi = c.kv.get("guard")[1]["ModifyIndex"]
    before = snapshot(berthd)

    r = txn(berthd, [
        kv_op("delete-tree", "data/"),
        kv_op("set", "data/2", "two"),
        kv_op("check-index", "guard", Index=mi + 1),
    ])
    assert r.status_code == 409, r.text
    errors = r.json()["Errors"]
    assert [e["OpIndex"] for e in errors] == [2]
    assert snapshot(berthd) == before


def test_txn_check_index_and_cas_succeed(berthd):
    c = berthd.consul()
    c.kv.put("guard", "g")
    c.kv.put("val", "old")
    g = c.kv.get("guard")[1]["ModifyIndex"]
    v = c.kv.get("val")[1]["ModifyIndex"]

    r = txn(berthd, [
        kv_op("check-index", "guard", Index=g),
        kv_op("cas", "val", "new", Index=v),
    ])
    assert r.status_code == 200, r.text
    assert r.json()["Errors"] is None
    _, item = c.kv.get("val")
    assert item["Value"] == b"new"
    assert item["ModifyIndex"] > v
    # guard untouched by check-index
    assert c.kv.get("guard")[1]["ModifyIndex"] == g


def test_txn_delete_and_delete_tree(berthd):
    c = berthd.consul()
    for k in ("del/one", "tree/a", "tree/b/c", "treetop", "keep"):
        c.kv.put(k, "x")

    r = txn(berthd, [kv_op("delete", "del/one"), kv_op("delete-tree", "tree/")])
    assert r.status_code == 200, r.text
    assert r.json()["Errors"] is None
    _, keys = c.kv.get("", keys=True)
    assert keys == ["keep", "treetop"]


def test_txn_get_missing_key_fails(berthd):
    """Consul: a `get` of a key that does not exist fails the transaction."""
    before = snapshot(berthd)
    r = txn(berthd, [kv_op("set", "made", "x"), kv_op("get", "absent")])
    assert r.status_code == 409, r.text
    assert [e["OpIndex"] for e in r.json()["Errors"]] == [1]
    assert snapshot(berthd) == before


def test_txn_cas_zero_means_create(berthd):
    c = berthd.consul()
    r = txn(berthd, [kv_op("cas", "fresh", "1", Index=0)])
    assert r.status_code == 200, r.text
    assert c.kv.get("fresh")[1]["Value"] == b"1"
    r = txn(berthd, [kv_op("cas", "fresh", "2", Index=0)])
    assert r.status_code == 409, r.text
    assert c.kv.get("fresh")[1]["Value"] == b"1"


@pytest.mark.parametrize("ops", [
    [kv_op("frobnicate", "k", "v")],                     # unknown verb
    [{"KV": {"Verb": "set", "Value": b64("v")}}],        # no key
    [{"KV": {"Verb": "set", "Key": "k", "Value": "%%%not base64"}}],
], ids=["unknown-verb", "missing-key", "bad-base64"])
def test_txn_invalid_op_rejected(berthd, ops):
    before = snapshot(berthd)
    r = txn(berthd, ops)
    assert r.status_code in (400, 409), r.text
    assert snapshot(berthd) == before
