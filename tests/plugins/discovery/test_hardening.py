# SPDX-License-Identifier: LGPL-2.1-or-later
"""The discovery plugin under hostile input (issue 11): invalid query
parameters are refused instead of ignored, registrations with values of
the wrong type or beyond Consul's limits are refused, KV keys are limited,
stored rows that no longer validate are set aside instead of crashing
berthd, and the DNS server survives garbage."""

import json
import random
import socket
import sqlite3
import struct
import subprocess

import dns.message
import dns.query
import pytest
import requests

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def node(discovery_node):
    return discovery_node()


def kv_snapshot(b):
    r = b.get("/v1/kv/?recurse")
    if r.status_code == 404:
        return {}
    assert r.status_code == 200, r.text
    return {e["Key"]: (e["Value"], e["Flags"], e["ModifyIndex"]) for e in r.json()}


def catalog_snapshot(b):
    services = b.get("/v1/catalog/services").json()
    nodes = {n["Node"]: (n["Meta"], n["TaggedAddresses"]) for n in b.get("/v1/catalog/nodes").json()}
    return services, nodes


def message(r, status):
    assert r.status_code == status, f"HTTP {r.status_code} {r.text[:300]!r}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body
    return body["message"]


@pytest.fixture
def seeded(node):
    c = node.consul()
    c.kv.put("seed/a", "alpha")
    c.kv.put("seed/b", "beta")
    c.kv.put("target", "original")
    return node, kv_snapshot(node)


# ---- query parameters ------------------------------------------------------

@pytest.mark.parametrize("query", ["recurse=maybe", "keys=x", "raw=zz", "recurse=2",
                                   "stale=sometimes", "consistent=no"])
def test_kv_read_flags_must_be_booleans(seeded, query):
    node, before = seeded
    r = node.get(f"/v1/kv/seed?{query}")
    assert query.split("=")[0] in message(r, 400)
    assert kv_snapshot(node) == before


def test_kv_delete_recurse_must_be_a_boolean(seeded):
    """`?recurse=maybe` deleted the whole tree under the key."""
    node, before = seeded
    r = node.delete("/v1/kv/seed?recurse=maybe")
    assert "recurse" in message(r, 400)
    assert kv_snapshot(node) == before


def test_health_passing_must_be_a_boolean(node):
    r = node.get("/v1/health/service/web?passing=perhaps")
    assert "passing" in message(r, 400)


@pytest.mark.parametrize("query", ["recurse", "recurse=", "recurse=1", "recurse=true",
                                   "recurse=True"])
def test_kv_recurse_spellings_accepted(seeded, query):
    node, _ = seeded
    r = node.get(f"/v1/kv/seed?{query}")
    assert r.status_code == 200, r.text
    assert sorted(e["Key"] for e in r.json()) == ["seed/a", "seed/b"]


def test_kv_recurse_false_reads_one_key(seeded):
    node, _ = seeded
    assert node.get("/v1/kv/seed?recurse=false").status_code == 404
    r = node.get("/v1/kv/target?recurse=0")
    assert r.status_code == 200 and [e["Key"] for e in r.json()] == ["target"]


def test_python_consul_flags_still_work(seeded):
    node, _ = seeded
    c = node.consul()
    _, items = c.kv.get("seed", recurse=True)
    assert sorted(i["Key"] for i in items) == ["seed/a", "seed/b"]
    _, keys = c.kv.get("", keys=True, separator="/")
    assert keys == ["seed/", "target"]
    assert c.kv.delete("seed", recurse=True) is True
    assert c.kv.get("seed/a")[1] is None


@pytest.mark.parametrize("method,query,name", [
    ("PUT", "cas=abc", "cas"), ("PUT", "cas=-1", "cas"), ("PUT", "cas=", "cas"),
    ("PUT", "flags=x", "flags"), ("PUT", "flags=-3", "flags"),
    ("DELETE", "cas=x", "cas"), ("DELETE", "cas=", "cas"),
    ("GET", "index=-1", "index"), ("GET", "index=abc", "index"),
    ("GET", "wait=forever", "wait"), ("GET", "index=1&wait=10x", "wait"),
])
def test_kv_invalid_numbers_refused(seeded, method, query, name):
    node, before = seeded
    r = node.request(method, f"/v1/kv/target?{query}",
                     data=b"overwritten" if method == "PUT" else None)
    assert name in message(r, 400)
    assert kv_snapshot(node) == before


@pytest.mark.parametrize("path", ["/v1/catalog/services", "/v1/health/service/web",
                                  "/v1/agent/services"])
def test_blocking_reads_refuse_bad_index_and_wait(node, path):
    assert "index" in message(node.get(f"{path}?index=-1"), 400)
    assert "wait" in message(node.get(f"{path}?index=1&wait=forever"), 400)


@pytest.mark.parametrize("method,path", [("GET", "/v1/kv/target"), ("PUT", "/v1/kv/target"),
                                         ("GET", "/v1/catalog/services")])
def test_unknown_datacenter_is_consuls_500(seeded, method, path):
    node, before = seeded
    r = node.request(method, f"{path}?dc=nowhere", data=b"x" if method == "PUT" else None)
    assert message(r, 500) == "No path to datacenter"
    assert kv_snapshot(node) == before


@pytest.mark.parametrize("query,text", [("acquire=abc", "Invalid session"),
                                        ("release=abc", "Invalid session"),
                                        ("acquire=", "session id is required"),
                                        ("release=", "session id is required")])
def test_unknown_session_is_not_a_write(seeded, query, text):
    node, before = seeded
    r = node.put(f"/v1/kv/target?{query}", data=b"overwritten")
    assert text in message(r, 400)
    assert kv_snapshot(node) == before


def test_keys_with_separator(seeded):
    node, _ = seeded
    r = node.get("/v1/kv/?keys&separator=/")
    assert r.status_code == 200 and r.json() == ["seed/", "target"]
    r = node.get("/v1/kv/?keys&separator=")
    assert r.status_code == 200 and r.json() == ["seed/a", "seed/b", "target"]


# ---- KV keys ---------------------------------------------------------------

def test_kv_key_length_limit(seeded):
    node, before = seeded
    r = node.put("/v1/kv/" + "k" * 513, data=b"v")
    assert "too long" in message(r, 400)
    r = node.put("/v1/txn", json=[{"KV": {"Verb": "set", "Key": "t" * 513, "Value": "dg=="}}])
    assert "too long" in message(r, 400)
    assert kv_snapshot(node) == before
    assert node.consul().kv.put("k" * 512, "v") is True


def test_kv_key_length_limit_configurable(discovery_node):
    node = discovery_node(extra_config="[discovery]\nmax_key_bytes = 8\n")
    assert "too long" in message(node.put("/v1/kv/123456789", data=b"v"), 400)
    assert node.consul().kv.put("12345678", "v") is True


def test_kv_put_needs_a_key(seeded):
    node, before = seeded
    assert message(node.put("/v1/kv/", data=b"v"), 400)
    r = node.put("/v1/txn", json=[{"KV": {"Verb": "set", "Key": "", "Value": "dg=="}}])
    assert message(r, 400)
    r = node.put("/v1/txn", json=[{"KV": {"Verb": 7, "Key": "x", "Value": "dg=="}}])
    assert message(r, 400)
    assert kv_snapshot(node) == before


# ---- registrations: types and Consul's limits on meta ----------------------

def register_node(b, **extra):
    body = {"Node": "ext1", "Address": "10.0.0.5"}
    body.update(extra)
    return b.put("/v1/catalog/register", data=json.dumps(body), headers=JSON)


@pytest.mark.parametrize("extra", [
    {"NodeMeta": {"rack": 1}},
    {"NodeMeta": {"rack": ["r1"]}},
    {"NodeMeta": {"rack": None}},
    {"NodeMeta": "rack=r1"},
    {"TaggedAddresses": {"wan": 42}},
    {"TaggedAddresses": {"wan": {"address": "1.2.3.4"}}},
    {"SkipNodeUpdate": "yes"},
    {"Service": {"Service": "db", "Meta": {"v": 2}}},
    {"Service": {"Service": "db", "Tags": ["a", 1]}},
    {"Service": {"Service": "db", "TaggedAddresses": {"lan": "10.0.0.1"}}},
    {"Service": {"Service": "db", "TaggedAddresses": {"lan": {"Address": 1, "Port": 5}}}},
    {"Service": {"Service": "db", "TaggedAddresses": {"lan": {"Address": "a", "Port": 70000}}}},
], ids=lambda e: json.dumps(e))
def test_catalog_register_wrong_types_refused(node, extra):
    before = catalog_snapshot(node)
    message(register_node(node, **extra), 400)
    assert catalog_snapshot(node) == before


@pytest.mark.parametrize("meta,expected", [
    ({f"k{i}": "v" for i in range(65)}, "more than 64 key/value pairs"),
    ({"bad key": "v"}, "Key contains invalid characters"),
    ({"k.dot": "v"}, "Key contains invalid characters"),
    ({"": "v"}, "Key cannot be blank"),
    ({"k" * 129: "v"}, "Key is too long (limit: 128 characters)"),
    ({"consul-version": "1"}, "reserved for internal use"),
    ({"k": "v" * 513}, "Value is too long (limit: 512 characters)"),
], ids=["pairs", "space", "dot", "blank", "long-key", "prefix", "long-value"])
def test_meta_limits(node, meta, expected):
    before = catalog_snapshot(node)
    r = node.put("/v1/agent/service/register", data=json.dumps({"Name": "m", "Meta": meta}),
                 headers=JSON)
    assert expected in message(r, 400)
    assert message(register_node(node, NodeMeta=meta), 400)
    assert catalog_snapshot(node) == before


def test_meta_at_the_limits_accepted(node):
    meta = {f"k{i}": "v" for i in range(63)}
    meta["K_-9" + "k" * 124] = "v" * 512
    r = node.put("/v1/agent/service/register", data=json.dumps({"Name": "m", "Meta": meta}),
                 headers=JSON)
    assert r.status_code == 200, r.text
    assert register_node(node, NodeMeta=meta).status_code == 200
    assert node.get("/v1/catalog/service/m").json()[0]["ServiceMeta"] == meta
    assert node.get("/v1/catalog/node/ext1").json()["Node"]["Meta"] == meta


def test_meta_limits_configurable(discovery_node):
    node = discovery_node(extra_config="[discovery]\nmeta_max_pairs = 2\n"
                                       "meta_max_key_length = 4\nmeta_max_value_length = 3\n")
    ok = {"a": "1", "b": "2"}
    assert register_node(node, NodeMeta=ok).status_code == 200
    assert "more than 2" in message(register_node(node, NodeMeta={**ok, "c": "3"}), 400)
    assert "limit: 4" in message(register_node(node, NodeMeta={"abcde": "1"}), 400)
    assert "limit: 3" in message(register_node(node, NodeMeta={"a": "1234"}), 400)


def test_python_consul_registration_unaffected(node):
    c = node.consul()
    assert c.catalog.register("ext2", "10.0.0.6",
                              service={"Service": "pg", "Port": 5432, "Tags": ["primary"]})
    assert c.agent.service.register("web", service_id="web1", port=80, tags=["v1"])
    assert c.catalog.service("pg")[1][0]["ServiceTags"] == ["primary"]
    assert "web1" in c.agent.services()


# ---- stored rows that no longer validate ------------------------------------

def corrupt(b, statements):
    """Run SQL on berthd's store while it is stopped."""
    b.stop()
    db = sqlite3.connect(str(b.state_dir / "berth.db"))
    try:
        for sql, args in statements:
            assert db.execute(sql, args).rowcount == 1, sql
        db.commit()
    finally:
        db.close()
    b.start(b.extra_args)


def broken(b):
    r = b.get("/api/status")
    assert r.status_code == 200, r.text
    return {(e["kind"], e["id"]) for e in r.json()["broken"]}


def test_broken_stored_rows_are_set_aside(node, wait_until):
    c = node.consul()
    c.agent.service.register("web", service_id="web1", port=80, tags=["a"])
    c.agent.service.register("web", service_id="web2", port=81, tags=["a"])
    c.agent.service.register("web", service_id="web3", port=82, tags=["a"])
    c.agent.service.register("db", service_id="db1", port=5432,
                             check={"TTL": "60s", "CheckID": "dbttl", "Name": "db ttl"})
    c.agent.check.register("disk", check_id="chk-http", http="http://127.0.0.1:1/",
                           interval="10s")
    assert c.catalog.register("ext", "10.0.0.7", service={"Service": "ext", "Port": 1})
    me = node.node_name
    corrupt(node, [
        # a tag that is not a string: GET /v1/catalog/services crashed on it
        ("UPDATE catalog_services SET tags = ? WHERE id = ?", ('["a", 1]', "web1")),
        ("UPDATE catalog_services SET meta = ? WHERE id = ?", ('{"a":', "web2")),
        ("UPDATE catalog_services SET tags = ? WHERE id = ?",
         ("[" * 600 + "]" * 600, "db1")),
        ("UPDATE catalog_checks SET definition = ? WHERE id = ?",
         ('{"HTTP": 1, "Interval": "10s"}', "chk-http")),
        ("UPDATE catalog_nodes SET meta = ? WHERE name = ?", ('{"rack": 7}', "ext")),
    ])
    assert node.running
    expected = {("service", f"{me}/web1"), ("service", f"{me}/web2"),
                ("service", f"{me}/db1"), ("check", f"{me}/chk-http"), ("node", "ext")}
    # every read still answers (GET /v1/catalog/services crashed on the
    # tag), without the rows set aside
    r = node.get("/v1/catalog/services")
    assert r.status_code == 200 and r.json()["web"] == ["a"] and "db" not in r.json()
    r = node.get("/v1/catalog/service/web")
    assert r.status_code == 200 and [s["ServiceID"] for s in r.json()] == ["web3"]
    assert node.get("/v1/health/service/web").status_code == 200
    assert set(node.get("/v1/agent/services").json()) == {"web3"}
    assert "chk-http" not in node.get("/v1/agent/checks").json()
    assert "ext" not in [n["Node"] for n in node.get("/v1/catalog/nodes").json()]
    assert node.get("/v1/catalog/node/ext").json() is None
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(node.dns_port), "+time=3", "+tries=1",
                          "+short", "web.service.consul"], capture_output=True, text=True,
                         timeout=10).stdout.split()
    assert len(out) == 1, out   # web3 only
    assert node.running
    assert broken(node) >= expected
    # removed or registered again through the API: no longer broken
    assert c.agent.service.deregister("web1") is True
    assert c.agent.check.deregister("chk-http") is True
    c.agent.service.register("web", service_id="web2", port=81, tags=["b"])
    r = node.put("/v1/catalog/deregister", data=json.dumps({"Node": "ext"}), headers=JSON)
    assert r.status_code == 200, r.text
    left = broken(node)
    assert left & expected == {("service", f"{me}/db1")}, left
    assert set(node.get("/v1/agent/services").json()) == {"web2", "web3"}
    # and the next start comes up clean of what was removed
    node.restart()
    assert broken(node) == {("service", f"{me}/db1")}


# ---- DNS -------------------------------------------------------------------

def dig_short(b, name):
    return subprocess.run(["dig", "@127.0.0.1", "-p", str(b.dns_port), "+time=3", "+tries=1",
                           "+short", name], capture_output=True, text=True, timeout=10).stdout.split()


def test_dns_survives_random_packets(discovery_node):
    # response-rate limiting would throttle this one source's flood, and
    # the dig after it (its own tests: tests/plugins/security/test_limits_dns.py)
    node = discovery_node(extra_config="[discovery]\ndns_rrl_rate = 0\n")
    node.consul().agent.service.register("consul", service_id="consul1", port=8300)
    assert dig_short(node, "consul.service.consul") == ["127.0.0.1"]
    rng = random.Random(11)
    real = [dns.message.make_query(n, t, use_edns=e).to_wire()
            for n, t, e in [("consul.service.consul.", "A", False),
                            ("_consul._tcp.service.consul.", "SRV", 0),
                            (f"{node.node_name}.node.consul.", "A", False),
                            ("7f000001.addr.dc1.consul.", "A", 0),
                            ("1.0.0.127.in-addr.arpa.", "PTR", False),
                            ("example.org.", "MX", 0)]]
    packets = [bytes(rng.randrange(256) for _ in range(rng.choice((1, 11, 12, 13, 40, 300,
                                                                   rng.randint(1, 1400)))))
               for _ in range(1000)]
    packets += [q[:cut] for q in real for cut in range(len(q))]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for p in packets:
            s.sendto(p, ("127.0.0.1", node.dns_port))
    assert dig_short(node, "consul.service.consul") == ["127.0.0.1"]
    # TCP: many frames in one connection, lengths that lie, frames cut short
    for start in range(0, len(packets), 100):
        chunk = packets[start:start + 100]
        with socket.create_connection(("127.0.0.1", node.dns_port), timeout=3) as t:
            try:
                t.sendall(b"".join(struct.pack(">H", len(p)) + p for p in chunk))
                t.sendall(struct.pack(">H", 65535) + chunk[0])
            except OSError:
                pass
    for q in real:
        for cut in (1, 2, 5, len(q) // 2, len(q) - 1):
            with socket.create_connection(("127.0.0.1", node.dns_port), timeout=3) as t:
                t.sendall((struct.pack(">H", len(q)) + q)[:cut])
    assert node.running
    assert dig_short(node, "consul.service.consul") == ["127.0.0.1"]
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(node.dns_port), "+time=3", "+tries=1",
                          "+tcp", "+short", "consul.service.consul"], capture_output=True,
                         text=True, timeout=10).stdout.split()
    assert out == ["127.0.0.1"]


# ---- answers of another datacenter -------------------------------------------

class FakeDatacenter:
    """An HTTP server posing as datacenter "evil": /v1/agent/self answers
    `self_body`, every other GET answers `body` (set by the test)."""

    def __init__(self, port):
        import http.server
        import threading

        fake = self
        self.self_body = json.dumps({"Config": {"Datacenter": "evil", "NodeName": "x"}}).encode()
        self.body = b"[]"

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, body):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Consul-Index", "5")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(fake.self_body if self.path.startswith("/v1/agent/self") else fake.body)

            def do_PUT(self):
                self._send(b"true")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.address = f"127.0.0.1:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_dc(berth_env):
    fake = FakeDatacenter(berth_env.free_port())
    yield fake
    fake.close()


DEEP_REPLY = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("body", [DEEP_REPLY, b"[" * 100_000, b'{"Config": "dc9"}',
                                  b'{"Config": {"Datacenter": 9}}', b'["Config"]'],
                         ids=["deep", "unclosed", "config-string", "dc-number", "array"])
def test_join_reads_the_other_side_carefully(node, fake_dc, body):
    fake_dc.self_body = body
    r = requests.get(f"{node.admin_url}/v1/agent/join/{fake_dc.address}", params={"wan": 1},
                     timeout=30)
    assert "Failed to join" in message(r, 500)
    assert node.running
    assert node.get("/v1/catalog/datacenters").json() == [node.datacenter]


@pytest.mark.parametrize("body", [
    DEEP_REPLY,
    b'[{"Node": "n", "Service": 1}]',
    b'[{"Node": {"Node": 1, "Address": ["a"]}, "Service": {"Address": 2, "Port": "80"}}]',
    b'[{"Node": {"Node": "n", "Address": "10.9.9.9"}, "Service": {"Port": 99999999}}]',
    b'{"Node": {"Address": 5}}',
    b'{"Node": "n"}',
], ids=["deep", "service-number", "wrong-types", "port", "node-address-number", "node-string"])
def test_dns_reads_other_datacenters_carefully(node, fake_dc, body):
    r = requests.get(f"{node.admin_url}/v1/agent/join/{fake_dc.address}", params={"wan": 1},
                     timeout=30)
    assert r.status_code == 200, r.text
    fake_dc.body = body
    for name, rdtype in [("web.service.evil.consul.", "A"), ("web.service.evil.consul.", "SRV"),
                         ("x.node.evil.consul.", "A")]:
        q = dns.message.make_query(name, rdtype)
        resp = dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=10)
        assert resp.id == q.id
        assert node.running
    fake_dc.body = b'[{"Node": {"Node": "n", "Address": "10.9.9.9"}, "Service": {"Port": 80}}]'
    assert dig_short(node, "web.service.evil.consul") == ["10.9.9.9"]
