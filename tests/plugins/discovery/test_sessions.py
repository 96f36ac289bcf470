# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consul sessions and KV locks, through python-consul and plain HTTP:
/v1/session/*, ?acquire/?release, lock delay, the behaviors release and
delete, invalidation by a critical check, the txn verbs lock, unlock,
check-session, and bad input."""

import base64
import json
import time

import consul
import pytest
import requests


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1", dns=False)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_create_info_list_node_destroy(node):
    c = node.consul()
    sid = c.session.create(name="worker", behavior="delete", ttl=30, lock_delay=3)
    assert len(sid) == 36

    index, s = c.session.info(sid)
    assert int(index) > 0
    assert s["ID"] == sid
    assert s["Name"] == "worker"
    assert s["Node"] == "node1"
    assert s["Behavior"] == "delete"
    assert s["TTL"] == "30s"
    assert s["LockDelay"] == 3 * 10**9
    assert s["CreateIndex"] == s["ModifyIndex"] > 0
    # no checks named: the node's serfHealth when the catalog has one
    has_serf = any(ch["CheckID"] == "serfHealth" for ch in c.health.node("node1")[1])
    assert s["NodeChecks"] == (["serfHealth"] if has_serf else None)
    assert s["ServiceChecks"] is None

    other = c.session.create()
    _, s2 = c.session.info(other)
    assert s2["Behavior"] == "release"
    assert s2["LockDelay"] == 15 * 10**9
    assert s2["TTL"] == ""

    _, listed = c.session.list()
    assert {x["ID"] for x in listed} == {sid, other}
    _, on_node = c.session.node("node1")
    assert {x["ID"] for x in on_node} == {sid, other}
    _, elsewhere = c.session.node("nowhere")
    assert elsewhere == []

    assert c.session.destroy(sid) is True
    assert c.session.info(sid)[1] is None
    assert [x["ID"] for x in c.session.list()[1]] == [other]
    # destroying what is gone is done already
    assert c.session.destroy(sid) is True


def test_session_of_an_unknown_node_is_refused(node):
    r = node.put("/v1/session/create", json={"Node": "ghost"})
    assert r.status_code == 400, r.text
    assert "ghost" in r.text
    assert node.consul().session.list()[1] == []


def test_renew(node):
    c = node.consul()
    sid = c.session.create(ttl=10)
    renewed = c.session.renew(sid)
    assert renewed["ID"] == sid and renewed["TTL"] == "10s"
    c.session.destroy(sid)
    with pytest.raises(consul.NotFound):
        c.session.renew(sid)
    r = node.put(f"/v1/session/renew/{sid}")
    assert r.status_code == 404


def test_acquire_release_and_lock_index(node):
    c = node.consul()
    a = c.session.create(name="a", lock_delay=0)
    b = c.session.create(name="b", lock_delay=0)

    assert c.kv.put("svc/leader", "a1", acquire=a) is True
    _, e = c.kv.get("svc/leader")
    assert e["Session"] == a and e["LockIndex"] == 1 and e["Value"] == b"a1"

    # another session cannot take it, and the value stays
    assert c.kv.put("svc/leader", "b1", acquire=b) is False
    _, e = c.kv.get("svc/leader")
    assert e["Session"] == a and e["Value"] == b"a1"

    # the holder acquiring again updates the value, same LockIndex
    assert c.kv.put("svc/leader", "a2", acquire=a) is True
    _, e = c.kv.get("svc/leader")
    assert e["Session"] == a and e["LockIndex"] == 1 and e["Value"] == b"a2"

    # only the holder can release
    assert c.kv.put("svc/leader", "x", release=b) is False
    assert c.kv.put("svc/leader", "a3", release=a) is True
    _, e = c.kv.get("svc/leader")
    assert "Session" not in e or e["Session"] is None
    assert e["Value"] == b"a3" and e["LockIndex"] == 1

    # a new holder: LockIndex counts the acquisitions
    assert c.kv.put("svc/leader", "b2", acquire=b) is True
    _, e = c.kv.get("svc/leader")
    assert e["Session"] == b and e["LockIndex"] == 2

    # the raw reply carries the fields as Consul names them
    reply = node.get("/v1/kv/svc/leader").json()[0]
    assert reply["Session"] == b and reply["LockIndex"] == 2


def test_destroy_releases_with_lock_delay(node):
    c = node.consul()
    a = c.session.create(lock_delay=2)
    b = c.session.create(lock_delay=0)
    assert c.kv.put("lk", "a", acquire=a) is True
    assert c.session.destroy(a) is True
    _, e = c.kv.get("lk")
    assert e is not None and e.get("Session") is None and e["Value"] == b"a"
    # within the lock delay nobody may acquire it; a plain write still works
    assert c.kv.put("lk", "b", acquire=b) is False
    assert c.kv.put("lk", "plain") is True
    time.sleep(2.3)
    assert c.kv.put("lk", "b", acquire=b) is True
    assert c.kv.get("lk")[1]["Session"] == b


def test_behavior_delete_removes_held_keys(node):
    c = node.consul()
    s = c.session.create(behavior="delete", lock_delay=0)
    other = c.session.create(lock_delay=0)
    assert c.kv.put("eph/a", "1", acquire=s) is True
    assert c.kv.put("eph/b", "2", acquire=s) is True
    assert c.kv.put("eph/c", "3", acquire=other) is True
    assert c.kv.put("eph/d", "4") is True
    c.session.destroy(s)
    _, keys = c.kv.get("eph/", keys=True)
    assert keys == ["eph/c", "eph/d"]


def test_critical_check_invalidates_session(node, wait_until):
    c = node.consul()
    assert c.agent.check.register("lockcheck", check=consul.Check.ttl("60s")) is True
    # a TTL check starts critical: a session cannot rely on it yet
    r = node.put("/v1/session/create", json={"Name": "x", "Checks": ["lockcheck"]})
    assert r.status_code == 400 and "critical" in r.text
    r = node.put("/v1/session/create", json={"NodeChecks": ["nosuchcheck"]})
    assert r.status_code == 400 and "nosuchcheck" in r.text

    c.agent.check.ttl_pass("lockcheck")
    sid = c.session.create(checks=["lockcheck"], lock_delay=0)
    _, s = c.session.info(sid)
    assert s["NodeChecks"] == ["lockcheck"] and s["Checks"] == ["lockcheck"]
    assert c.kv.put("guarded", "v", acquire=sid) is True

    c.agent.check.ttl_fail("lockcheck")
    wait_until(lambda: c.session.info(sid)[1] is None, what="the session to be invalidated")
    assert c.kv.get("guarded")[1].get("Session") is None


def test_service_check_invalidates_session(node, wait_until):
    c = node.consul()
    assert c.agent.service.register("web", port=80, check=consul.Check.ttl("60s")) is True
    c.agent.check.ttl_pass("service:web")
    r = node.put("/v1/session/create", json={
        "NodeChecks": [], "ServiceChecks": [{"ID": "service:web"}], "LockDelay": "0s"})
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    _, s = c.session.info(sid)
    assert s["ServiceChecks"] == [{"ID": "service:web", "Namespace": ""}]
    assert s["NodeChecks"] is None
    assert c.kv.put("web/leader", "me", acquire=sid) is True
    c.agent.check.ttl_warn("service:web")
    time.sleep(0.5)
    assert c.session.info(sid)[1] is not None   # warning is not critical
    c.agent.check.ttl_fail("service:web")
    wait_until(lambda: c.session.info(sid)[1] is None, what="the session to be invalidated")
    assert c.kv.get("web/leader")[1].get("Session") is None


def test_deregistered_check_invalidates_session(node, wait_until):
    c = node.consul()
    c.agent.check.register("gone", check=consul.Check.ttl("60s"))
    c.agent.check.ttl_pass("gone")
    sid = c.session.create(checks=["gone"])
    c.agent.check.deregister("gone")
    wait_until(lambda: c.session.info(sid)[1] is None, what="the session to be invalidated")


def test_ttl_expiry(discovery_node, wait_until):
    # the agent's session_ttl_min (10s by default) lowered, as Consul allows
    node = discovery_node("node1", dns=False, extra_config="[discovery]\nsession_ttl_min = 1s\n")
    ttl = 2
    c = node.consul()
    r = node.put("/v1/session/create", json={"TTL": "500ms"})
    assert r.status_code == 400 and "1s" in r.text
    # python-consul refuses a TTL under 10s on its own: a plain request
    r = node.put("/v1/session/create", json={"TTL": f"{ttl}s", "LockDelay": "0s"})
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    assert c.kv.put("ttl/lock", "v", acquire=sid) is True
    # renewed: alive past the first TTL
    time.sleep(ttl * 0.6)
    c.session.renew(sid)
    time.sleep(ttl * 0.6)
    assert c.session.info(sid)[1] is not None
    # a restart keeps it, and its TTL starts again from the start
    node.restart()
    c = node.consul()
    started = time.monotonic()
    assert c.session.info(sid)[1] is not None
    # not renewed: gone after twice the TTL
    wait_until(lambda: c.session.info(sid)[1] is None, timeout=4 * ttl + 5, interval=0.2,
               what="the session to expire")
    assert time.monotonic() - started >= 2 * ttl - 1
    assert c.kv.get("ttl/lock")[1].get("Session") is None


def test_default_session_ttl_min_is_consuls(node):
    r = node.put("/v1/session/create", json={"TTL": "9s"})
    assert r.status_code == 400 and "10s" in r.text


def test_sessions_survive_restart(node):
    c = node.consul()
    sid = c.session.create(name="durable", lock_delay=0)
    assert c.kv.put("keep", "v", acquire=sid) is True
    node.restart()
    c = node.consul()
    _, s = c.session.info(sid)
    assert s["Name"] == "durable"
    assert c.kv.get("keep")[1]["Session"] == sid


def test_session_list_blocks_until_change(node):
    c = node.consul()
    index, _ = c.session.list()
    started = time.monotonic()
    r = node.get("/v1/session/list", params={"index": index, "wait": "1s"})
    assert r.status_code == 200 and r.json() == []
    assert time.monotonic() - started >= 0.9
    sid = c.session.create()
    index2, listed = c.session.list(index=index)
    assert int(index2) > int(index) and [x["ID"] for x in listed] == [sid]


def txn(node, ops):
    r = node.put("/v1/txn", data=json.dumps([{"KV": op} for op in ops]))
    return r.status_code, r.json()


def test_txn_lock_unlock_check_session(node):
    c = node.consul()
    a = c.session.create(lock_delay=0)
    b = c.session.create(lock_delay=0)

    status, body = txn(node, [{"Verb": "lock", "Key": "t/l", "Value": b64("one"), "Session": a}])
    assert status == 200, body
    assert body["Results"][0]["KV"]["Session"] == a
    assert body["Results"][0]["KV"]["LockIndex"] == 1

    status, body = txn(node, [{"Verb": "check-session", "Key": "t/l", "Session": a},
                              {"Verb": "set", "Key": "t/other", "Value": b64("x")}])
    assert status == 200, body

    # a failing check-session rolls the whole transaction back
    status, body = txn(node, [{"Verb": "set", "Key": "t/rolled", "Value": b64("x")},
                              {"Verb": "check-session", "Key": "t/l", "Session": b}])
    assert status == 409 and body["Errors"][0]["OpIndex"] == 1
    assert c.kv.get("t/rolled")[1] is None

    # lock by another session fails; unlock by the holder works
    status, body = txn(node, [{"Verb": "lock", "Key": "t/l", "Value": b64("two"), "Session": b}])
    assert status == 409 and body["Errors"][0]["OpIndex"] == 0
    status, body = txn(node, [{"Verb": "unlock", "Key": "t/l", "Value": b64("three"), "Session": a}])
    assert status == 200, body
    _, e = c.kv.get("t/l")
    assert e.get("Session") is None and e["Value"] == b"three"

    # check-index and check-not-exists
    status, body = txn(node, [{"Verb": "check-index", "Key": "t/l", "Index": e["ModifyIndex"]},
                              {"Verb": "check-not-exists", "Key": "t/none"}])
    assert status == 200, body
    status, body = txn(node, [{"Verb": "check-index", "Key": "t/l", "Index": e["ModifyIndex"] + 100}])
    assert status == 409

    # an unknown session is the failing operation's error
    status, body = txn(node, [{"Verb": "lock", "Key": "t/l", "Value": b64("x"),
                               "Session": "00000000-0000-0000-0000-000000000000"}])
    assert status == 409 and "session" in body["Errors"][0]["What"].lower()
    # no Session at all is a malformed operation
    r = node.put("/v1/txn", data=json.dumps([{"KV": {"Verb": "lock", "Key": "t/l"}}]))
    assert r.status_code == 400


@pytest.mark.parametrize("body,needle", [
    ({"TTL": "5s"}, "TTL"),
    ({"TTL": "86401s"}, "TTL"),
    ({"TTL": "soon"}, "TTL"),
    ({"Behavior": "explode"}, "Behavior"),
    ({"LockDelay": "forever"}, "LockDelay"),
    ({"LockDelay": -1}, "LockDelay"),
    ({"Checks": "serfHealth"}, "Checks"),
    ({"ServiceChecks": [{"Namespace": "x"}]}, "ServiceChecks"),
    ({"Name": 7}, "Name"),
])
def test_bad_session_input(node, body, needle):
    r = node.put("/v1/session/create", json=body)
    assert r.status_code == 400, r.text
    assert needle in r.text
    assert node.consul().session.list()[1] == []


def test_bad_session_body(node):
    r = node.put("/v1/session/create", data=b"[1,2]")
    assert r.status_code == 400
    r = node.put("/v1/session/create", data=b"{nope")
    assert r.status_code == 400
    assert node.consul().session.list()[1] == []


def test_acquire_with_unknown_session(node):
    c = node.consul()
    r = node.put("/v1/kv/k?acquire=00000000-0000-0000-0000-000000000000", data=b"v")
    assert r.status_code == 400 and "session" in r.text.lower()
    r = node.put("/v1/kv/k?acquire=", data=b"v")
    assert r.status_code == 400
    sid = c.session.create()
    r = node.put(f"/v1/kv/k?acquire={sid}&release={sid}", data=b"v")
    assert r.status_code == 400
    assert c.kv.get("k")[1] is None
    with pytest.raises(consul.base.BadRequest):
        c.kv.put("k", "v", acquire="not-a-session")


def _token(node, name, rules):
    r = requests.put(node.admin_url + "/v1/acl/policy", json={"Name": name, "Rules": rules},
                     timeout=10)
    assert r.status_code == 200, r.text
    r = requests.put(node.admin_url + "/v1/acl/token", json={"Policies": [{"Name": name}]},
                     timeout=10)
    assert r.status_code == 200, r.text
    return {"X-Consul-Token": r.json()["SecretID"]}


def test_session_acl(node):
    """Session write names the session's node; key write is what acquire
    needs. (python-consul's session calls send no token: plain HTTP here.)"""
    locker = _token(node, "locker",
                    'session "node1" { policy = "write" }\nkey_prefix "" { policy = "write" }\n')
    r = node.put("/v1/session/create", json={"Name": "l"}, headers=locker)
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    r = node.put(f"/v1/kv/acl/lock?acquire={sid}", data=b"v", headers=locker)
    assert r.status_code == 200 and r.json() is True
    r = node.get("/v1/session/list", headers=locker)
    assert [x["ID"] for x in r.json()] == [sid]
    # a session of another node: not the locker's to make, nor to see
    r = node.put("/v1/catalog/register", json={"Node": "node2", "Address": "10.0.0.2"})
    assert r.status_code == 200, r.text
    assert node.put("/v1/session/create", json={"Node": "node2"}, headers=locker).status_code == 403
    theirs = node.consul().session.create(node="node2")
    r = node.get("/v1/session/list", headers=locker)
    assert [x["ID"] for x in r.json()] == [sid]
    assert r.headers.get("X-Consul-Results-Filtered-By-ACLs") == "true"
    assert node.get(f"/v1/session/info/{theirs}", headers=locker).json() == []
    assert node.get("/v1/session/node/node2", headers=locker).status_code == 403
    assert {x["ID"] for x in node.consul().session.list()[1]} == {sid, theirs}

    kv_only = _token(node, "kvonly", 'key_prefix "" { policy = "write" }\n')
    assert node.put("/v1/session/create", json={}, headers=kv_only).status_code == 403
    assert node.put(f"/v1/session/destroy/{sid}", headers=kv_only).status_code == 403
    assert node.put(f"/v1/session/renew/{sid}", headers=kv_only).status_code == 403
    # no session rule at all: no session list
    assert node.get("/v1/session/list", headers=kv_only).status_code == 403
    assert node.consul().session.info(sid)[1] is not None

    reader = _token(node, "reader", 'session_prefix "" { policy = "read" }\n')
    r = node.put(f"/v1/kv/acl/lock?release={sid}", data=b"w", headers=reader)
    assert r.status_code == 403
    r = node.get(f"/v1/session/info/{sid}", headers=reader)
    assert r.status_code == 200 and r.json()[0]["ID"] == sid
    assert node.put("/v1/session/create", json={}, headers=reader).status_code == 403
    assert node.consul().kv.get("acl/lock")[1]["Session"] == sid
