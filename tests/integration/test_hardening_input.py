# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile input on the JSON and query front doors (issue 11, items 1, 9,
10 and 12): one request must never crash berthd nor change the store.

Every rejected request answers a 4xx with a JSON {"message": ...} body,
berthd keeps answering, and the KV store and the catalog are exactly as
they were."""

import json

import pytest

JSON = {"Content-Type": "application/json"}

DEEP = 100_000
PAYLOADS = {
    "deeply-nested": b"[" * DEEP + b"]" * DEEP,
    "unclosed": b"[" * DEEP,
}

# (method, path) of every endpoint that takes a JSON document
JSON_ENDPOINTS = [
    ("PUT", "/v1/agent/service/register"),
    ("POST", "/v2/apps"),
    ("PUT", "/v1/catalog/register"),
    ("PUT", "/v1/txn"),
]


def kv_snapshot(berthd):
    r = berthd.get("/v1/kv/?recurse")
    if r.status_code == 404:
        return {}
    assert r.status_code == 200, r.text
    return {e["Key"]: (e["Value"], e["Flags"], e["ModifyIndex"]) for e in r.json()}


def services_snapshot(berthd):
    r = berthd.get("/v1/catalog/services")
    assert r.status_code == 200, r.text
    return r.json()


def store_snapshot(berthd):
    return kv_snapshot(berthd), services_snapshot(berthd)


@pytest.fixture
def seeded(berthd):
    c = berthd.consul()
    c.kv.put("seed/a", "alpha")
    c.kv.put("target", "original")
    c.agent.service.register("web", service_id="web1", port=80, tags=["v1"])
    return berthd, store_snapshot(berthd)


def assert_json_message(r, status):
    """`r` answers `status` with a valid UTF-8 JSON {"message": "..."}."""
    assert r.status_code == status, f"HTTP {r.status_code} {r.content[:300]!r}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    text = r.content.decode("utf-8")   # strict: raises on invalid UTF-8
    data = json.loads(text)
    assert isinstance(data, dict) and isinstance(data.get("message"), str), data
    assert data["message"].strip(), data
    return data["message"]


def assert_alive(berthd):
    assert berthd.running, "berthd died"
    r = berthd.get("/v1/status/leader")
    assert r.status_code == 200, r.text


# ---- 1. nesting that would overflow json-glib's recursion ----------------

@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("method,path", JSON_ENDPOINTS, ids=[p for _, p in JSON_ENDPOINTS])
def test_deeply_nested_json_is_refused(seeded, method, path, payload):
    berthd, before = seeded
    r = berthd.request(method, path, data=payload, headers=JSON)
    assert_json_message(r, 400)
    assert_alive(berthd)
    assert store_snapshot(berthd) == before


def test_nesting_just_under_the_limit_is_parsed(seeded):
    """500 levels is far from any real document but still JSON: not refused
    as too deep (the service payload is just of the wrong shape)."""
    berthd, before = seeded
    body = b'{"Name":"deep","Meta":' + b"[" * 500 + b"]" * 500 + b"}"
    r = berthd.put("/v1/agent/service/register", data=body, headers=JSON)
    message = assert_json_message(r, 400)
    assert "deeper" not in message, message
    assert store_snapshot(berthd) == before


# ---- 10. U+0000 inside strings --------------------------------------------

def test_nul_in_service_name_is_refused(seeded):
    berthd, before = seeded
    body = b'{"Name":"nul\\u0000svc","ID":"nul1"}'
    r = berthd.put("/v1/agent/service/register", data=body, headers=JSON)
    assert_json_message(r, 400)
    assert store_snapshot(berthd) == before
    assert "nul" not in services_snapshot(berthd)


def test_nul_in_catalog_registration_is_refused(seeded):
    berthd, before = seeded
    body = (b'{"Node":"ext\\u0000node","Address":"10.0.0.9",'
            b'"Service":{"Service":"db\\u0000x","Port":5432}}')
    r = berthd.put("/v1/catalog/register", data=body, headers=JSON)
    assert_json_message(r, 400)
    assert store_snapshot(berthd) == before
    nodes = [n["Node"] for n in berthd.get("/v1/catalog/nodes").json()]
    assert not any(n.startswith("ext") for n in nodes), nodes


def test_nul_in_txn_kv_key_is_refused(seeded):
    berthd, before = seeded
    body = (b'[{"KV":{"Verb":"set","Key":"target\\u0000evil","Value":"eA=="}},'
            b'{"KV":{"Verb":"set","Key":"other","Value":"eA=="}}]')
    r = berthd.put("/v1/txn", data=body, headers=JSON)
    assert_json_message(r, 400)
    assert store_snapshot(berthd) == before


# ---- 9. %00 in query values ----------------------------------------------

@pytest.mark.parametrize("query", ["cas=1%00", "cas=%00", "acquire=%00", "release=%00",
                                   "flags=7%00"])
def test_nul_in_kv_query_is_refused(seeded, query):
    berthd, before = seeded
    r = berthd.put(f"/v1/kv/target?{query}", data=b"overwritten")
    assert_json_message(r, 400)
    assert store_snapshot(berthd) == before
    assert berthd.consul().kv.get("target")[1]["Value"] == b"original"


def test_nul_in_kv_delete_query_is_refused(seeded):
    berthd, before = seeded
    r = berthd.delete("/v1/kv/target?cas=1%00")
    assert_json_message(r, 400)
    assert store_snapshot(berthd) == before


# ---- 12. replies that echo invalid UTF-8 from the request -----------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/v2/apps/%ff"),
    ("GET", "/v2/apps/%ff%fe/tasks"),
    ("GET", "/v1/catalog/service/%ff"),
    ("GET", "/v1/agent/service/%ff%fe"),
    ("PUT", "/v1/kv/%ff?cas=x"),
    ("PUT", "/v1/kv/%ff%fe?flags=%ff"),
    ("GET", "/v1/kv/%ff?index=%fe"),
])
def test_error_replies_are_valid_utf8_json(seeded, method, path):
    berthd, before = seeded
    r = berthd.request(method, path, data=b"v" if method == "PUT" else None)
    assert r.headers.get("Content-Type", "").startswith("application/json"), \
        (r.status_code, r.headers, r.content[:200])
    data = json.loads(r.content.decode("utf-8"))   # strict UTF-8
    if r.status_code >= 400:
        assert isinstance(data, dict) and data.get("message"), data
    assert_alive(berthd)
    assert store_snapshot(berthd) == before
