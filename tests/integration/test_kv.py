# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consul-compatible KV store, driven with Debian's python3-consul."""

import base64
import urllib.parse

import pytest


def index_of(berthd, path="/v1/kv/?recurse"):
    """The X-Consul-Index of a GET (as int)."""
    r = berthd.get(path)
    return int(r.headers["X-Consul-Index"])


def test_put_get_delete(berthd):
    c = berthd.consul()
    assert c.kv.put("a/b", "hello") is True

    idx, item = c.kv.get("a/b")
    assert int(idx) > 0
    assert item["Key"] == "a/b"
    assert item["Value"] == b"hello"
    assert item["Flags"] == 0
    assert item["LockIndex"] == 0

    # overwrite
    assert c.kv.put("a/b", "world") is True
    assert c.kv.get("a/b")[1]["Value"] == b"world"

    assert c.kv.delete("a/b") is True
    idx2, item = c.kv.get("a/b")
    assert item is None
    assert int(idx2) > int(idx)

    # deleting a missing key is not an error (Consul answers true)
    assert c.kv.delete("a/b") is True


def test_get_reply_is_consul_shaped(berthd):
    c = berthd.consul()
    c.kv.put("shape", "v")
    r = berthd.get("/v1/kv/shape")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    data = r.json()
    assert isinstance(data, list) and len(data) == 1
    entry = data[0]
    for field in ("LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"):
        assert field in entry, field
    assert base64.b64decode(entry["Value"]) == b"v"
    assert r.headers["X-Consul-KnownLeader"] == "true"
    assert r.headers["X-Consul-LastContact"] == "0"
    assert int(r.headers["X-Consul-Index"]) >= entry["ModifyIndex"]


def test_missing_key_404_has_index_headers(berthd):
    berthd.consul().kv.put("exists", "x")
    r = berthd.get("/v1/kv/does/not/exist")
    assert r.status_code == 404
    assert r.content == b""
    idx = r.headers.get("X-Consul-Index")
    assert idx is not None and idx.isdigit(), idx
    assert int(idx) > 0  # the store has seen one write
    assert r.headers.get("X-Consul-KnownLeader") == "true"
    assert r.headers.get("X-Consul-LastContact") == "0"


def test_known_leader_header_on_success(berthd):
    r = berthd.get("/v1/status/leader")
    assert r.headers.get("X-Consul-KnownLeader") == "true"
    assert r.headers.get("X-Consul-Index", "").isdigit()


def test_empty_value(berthd):
    c = berthd.consul()
    assert c.kv.put("dir/", None) is True
    _, item = c.kv.get("dir/")
    assert item is not None
    assert item["Key"] == "dir/"
    assert item["Value"] in (None, b"")


def test_recurse(berthd):
    c = berthd.consul()
    for k in ("app/a", "app/b/c", "apple", "other"):
        assert c.kv.put(k, "v-" + k) is True

    _, items = c.kv.get("app/", recurse=True)
    assert [i["Key"] for i in items] == ["app/a", "app/b/c"]
    assert [i["Value"] for i in items] == [b"v-app/a", b"v-app/b/c"]

    _, items = c.kv.get("app", recurse=True)
    assert [i["Key"] for i in items] == ["app/a", "app/b/c", "apple"]

    _, items = c.kv.get("", recurse=True)
    assert [i["Key"] for i in items] == ["app/a", "app/b/c", "apple", "other"]

    _, items = c.kv.get("nothing/", recurse=True)
    assert items is None


def test_keys_and_separator(berthd):
    c = berthd.consul()
    for k in ("dir/a", "dir/b/c", "dir/b/d", "dir/e/f/g", "dirt"):
        c.kv.put(k, "x")

    _, keys = c.kv.get("dir/", keys=True)
    assert keys == ["dir/a", "dir/b/c", "dir/b/d", "dir/e/f/g"]

    _, keys = c.kv.get("dir/", keys=True, separator="/")
    assert keys == ["dir/a", "dir/b/", "dir/e/"]

    _, keys = c.kv.get("", keys=True, separator="/")
    assert keys == ["dir/", "dirt"]


def test_cas_zero_creates_only_if_missing(berthd):
    c = berthd.consul()
    assert c.kv.put("once", "first", cas=0) is True
    assert c.kv.put("once", "second", cas=0) is False
    assert c.kv.get("once")[1]["Value"] == b"first"


def test_cas_success_and_failure(berthd):
    c = berthd.consul()
    c.kv.put("lock", "v1")
    _, item = c.kv.get("lock")
    mi = item["ModifyIndex"]

    assert c.kv.put("lock", "v2", cas=mi) is True
    _, item2 = c.kv.get("lock")
    assert item2["Value"] == b"v2"
    assert item2["ModifyIndex"] > mi

    before = index_of(berthd)
    # the old index is stale now: refused, value and indexes unchanged
    assert c.kv.put("lock", "v3", cas=mi) is False
    _, item3 = c.kv.get("lock")
    assert item3["Value"] == b"v2"
    assert item3["ModifyIndex"] == item2["ModifyIndex"]
    assert index_of(berthd) == before

    # cas on a missing key with a non-zero index fails too
    assert c.kv.put("missing", "x", cas=mi) is False
    assert c.kv.get("missing")[1] is None


def test_delete_cas(berthd):
    c = berthd.consul()
    c.kv.put("dk", "v")
    mi = c.kv.get("dk")[1]["ModifyIndex"]
    assert c.kv.delete("dk", cas=mi + 1000) is False
    assert c.kv.get("dk")[1]["Value"] == b"v"
    assert c.kv.delete("dk", cas=mi) is True
    assert c.kv.get("dk")[1] is None


@pytest.mark.parametrize("flags", [0, 1, 42, 2**31, 2**63 - 1, 2**64 - 1])
def test_flags_round_trip(berthd, flags):
    c = berthd.consul()
    assert c.kv.put("flagged", "v", flags=flags) is True
    _, item = c.kv.get("flagged")
    assert item["Flags"] == flags
    _, items = c.kv.get("flagged", recurse=True)
    assert items[0]["Flags"] == flags


def test_binary_value_round_trip(berthd):
    c = berthd.consul()
    value = bytes(range(256)) * 4
    assert c.kv.put("bin", value) is True
    _, item = c.kv.get("bin")
    assert item["Value"] == value

    r = berthd.get("/v1/kv/bin?raw")
    assert r.status_code == 200
    assert r.content == value


def test_raw(berthd):
    c = berthd.consul()
    c.kv.put("rawkey", '{"json": "as text"}')
    r = berthd.get("/v1/kv/rawkey", params={"raw": ""})
    assert r.status_code == 200
    assert r.content == b'{"json": "as text"}'
    assert r.headers["X-Consul-Index"].isdigit()

    r = berthd.get("/v1/kv/no-such-key?raw")
    assert r.status_code == 404


def test_index_increases_monotonically(berthd):
    c = berthd.consul()
    seen = [index_of(berthd)]
    for i in range(10):
        c.kv.put(f"mono/{i}", str(i))
        seen.append(index_of(berthd))
    c.kv.put("mono/0", "again")
    seen.append(index_of(berthd))
    c.kv.delete("mono/1")
    seen.append(index_of(berthd))
    c.kv.delete("mono/", recurse=True)
    seen.append(index_of(berthd))
    assert all(b > a for a, b in zip(seen, seen[1:])), seen


def test_create_and_modify_index(berthd):
    c = berthd.consul()
    c.kv.put("ci", "v1")
    _, e1 = c.kv.get("ci")
    assert e1["CreateIndex"] == e1["ModifyIndex"]
    assert e1["CreateIndex"] > 0

    c.kv.put("other", "x")
    c.kv.put("ci", "v2")
    idx, e2 = c.kv.get("ci")
    assert e2["CreateIndex"] == e1["CreateIndex"]
    assert e2["ModifyIndex"] > e1["ModifyIndex"]
    assert int(idx) >= e2["ModifyIndex"]

    # delete + re-create: a new CreateIndex
    c.kv.delete("ci")
    c.kv.put("ci", "v3")
    _, e3 = c.kv.get("ci")
    assert e3["CreateIndex"] > e2["ModifyIndex"]
    assert e3["CreateIndex"] == e3["ModifyIndex"]


def test_delete_recurse(berthd):
    c = berthd.consul()
    for k in ("tree/a", "tree/b/c", "tree/b/d", "treehouse", "tre"):
        c.kv.put(k, "x")
    assert c.kv.delete("tree/", recurse=True) is True
    _, keys = c.kv.get("", keys=True)
    assert keys == ["tre", "treehouse"]


def test_delete_without_recurse_is_exact(berthd):
    c = berthd.consul()
    c.kv.put("ex", "x")
    c.kv.put("ex/child", "y")
    assert c.kv.delete("ex") is True
    _, keys = c.kv.get("", keys=True)
    assert keys == ["ex/child"]


KEY_NAMES = [
    "with space/a b",
    "unicode/ünïcødé/日本語",
    "slash/a/b/c/d",
    "plus+sign",
    "percent%41literal",     # must not be decoded twice into "percentAliteral"
    "question?mark&amp=1",
    "hash#tag",
    "colon:semi;comma,",
]


@pytest.mark.parametrize("key", KEY_NAMES)
def test_key_names(berthd, key):
    c = berthd.consul()
    value = ("value of " + key).encode()
    assert c.kv.put(key, value) is True
    _, item = c.kv.get(key)
    assert item is not None, f"{key!r} not found after put"
    assert item["Key"] == key
    assert item["Value"] == value

    _, keys = c.kv.get("", keys=True)
    assert keys == [key]

    # the same key through requests, encoded exactly once
    r = berthd.get("/v1/kv/" + urllib.parse.quote(key, safe="/"))
    assert r.status_code == 200
    assert r.json()[0]["Key"] == key

    assert c.kv.delete(key) is True
    assert c.kv.get("", keys=True)[1] is None
