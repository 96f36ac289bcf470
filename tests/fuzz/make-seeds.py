#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora of tests/fuzz/corpus/ (small inputs taken from the
tests). Run it from anywhere; it replaces the seed files it knows."""
import base64
import gzip
import io
import json
import pathlib
import tarfile

import dns.message
import dns.rdatatype

top = pathlib.Path(__file__).resolve().parent / "corpus"


def put(name, fname, data):
    d = top / name
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode()
    (d / fname).write_bytes(data)


def b64(s):
    return base64.b64encode(s.encode()).decode()


# Marathon apps (tests/plugins/scheduler)
put("http-apps", "simple", {"id": "/web", "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "instances": 1})
put("http-apps", "full", {
    "id": "/grp/api", "cmd": "sleep 100", "cpus": 0.1, "mem": 16, "instances": 2,
    "env": {"A": "1"}, "labels": {"x": "y"}, "ports": [0],
    "constraints": [["hostname", "UNIQUE"], ["zone", "LIKE", "a.*"]],
    "healthChecks": [{"protocol": "TCP", "portIndex": 0, "intervalSeconds": 5}],
    "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2},
    "backoffSeconds": 1, "args": None})
put("http-apps", "docker", {"id": "/c", "cpus": 0.1, "mem": 16, "instances": 1,
                            "container": {"type": "DOCKER", "docker": {"image": "busybox:latest"}},
                            "args": ["sleep", "100"]})

# Consul agent services (tests/plugins/discovery)
put("http-agent-service", "simple", {"Name": "web", "Tags": ["v1"], "Port": 80})
put("http-agent-service", "checks", {
    "ID": "web1", "Name": "web", "Address": "10.0.0.1", "Port": 8080,
    "Meta": {"version": "1"}, "EnableTagOverride": True,
    "Weights": {"Passing": 10, "Warning": 1},
    "Check": {"TTL": "10s", "DeregisterCriticalServiceAfter": "1m"},
    "Checks": [{"HTTP": "http://127.0.0.1:1/", "Interval": "10s"}, {"TCP": "127.0.0.1:1", "Interval": "5s"}]})

# Consul catalog registrations
put("http-catalog-register", "node", {"Node": "n1", "Address": "10.0.0.9", "NodeMeta": {"rack": "a"}})
put("http-catalog-register", "service", {
    "Node": "n1", "Address": "10.0.0.9", "TaggedAddresses": {"wan": "1.2.3.4"},
    "Service": {"ID": "db1", "Service": "db", "Tags": ["primary"], "Port": 5432},
    "Check": {"CheckID": "db1-alive", "Name": "alive", "Status": "passing", "ServiceID": "db1"}})

# Consul transactions (tests/integration/test_txn.py)
put("http-txn", "kv", [
    {"KV": {"Verb": "set", "Key": "a/b", "Value": b64("1")}},
    {"KV": {"Verb": "cas", "Key": "fresh", "Value": b64("2"), "Index": 0}},
    {"KV": {"Verb": "get", "Key": "a/b"}},
    {"KV": {"Verb": "delete-tree", "Key": "tree/"}}])
put("http-txn", "catalog", [
    {"Node": {"Verb": "set", "Node": {"Node": "n2", "Address": "10.0.0.2"}}},
    {"Service": {"Verb": "set", "Node": "n2", "Service": {"ID": "s", "Service": "s", "Port": 1}}},
    {"Check": {"Verb": "set", "Check": {"Node": "n2", "CheckID": "c", "Name": "c", "Status": "passing"}}},
    {"KV": {"Verb": "lock", "Key": "l", "Value": b64("x"), "Session": "00000000-0000-0000-0000-000000000000"}}])

# Container create (tests/plugins/runtime)
put("http-containers", "simple", {"image": "no/such:image", "network": "none"})
put("http-containers", "full", {"image": "busybox:latest", "name": "c1", "network": "none",
                                "cmd": ["true"], "env": ["A=1"], "memory": 16777216,
                                "labels": {"a": "b"}, "ports": ["8080:80/tcp"]})

# KV: method byte (0 GET, 1 PUT, 2 DELETE), key \n query \n body
put("http-kv", "get", b"\x00greeting\nraw\n")
put("http-kv", "put-cas", b"\x01a/b/c\ncas=0&flags=42\nhello")
put("http-kv", "recurse", b"\x00a/\nrecurse&keys&separator=/\n")
put("http-kv", "delete-nul", b"\x02x\ncas=1%00\n")

# Whole requests
put("http-raw", "kv-put", "PUT /v1/kv/k?flags=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
app = json.dumps({"id": "/r", "cmd": "true", "instances": 0}, separators=(",", ":"))
put("http-raw", "apps", "POST /v2/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(app)}\r\n\r\n{app}")
put("http-raw", "chunked", "PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\n"
    "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"Name\":\"chunk\"\r\n1\r\n}\r\n0\r\n\r\n")
put("http-raw", "get-status", "GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n")
put("http-raw", "health", "GET /v1/health/service/web?passing&tag=v1&node-meta=a:b HTTP/1.1\r\nHost: x\r\n\r\n")

# DNS queries (what dig sends)
for fname, qname, qtype, edns in [("a", "web.service.consul.", "A", False),
                                  ("srv-tag", "v1.web.service.consul.", "SRV", True),
                                  ("node", "fuzz.node.dc1.consul.", "AAAA", False),
                                  ("ptr", "1.0.0.127.in-addr.arpa.", "PTR", False),
                                  ("rfc2782", "_db._tcp.service.consul.", "SRV", True),
                                  ("outside", "example.com.", "A", False)]:
    m = dns.message.make_query(qname, qtype, use_edns=0 if edns else None)
    m.id = 0x1234
    put("dns", fname, m.to_wire())


# Layers (tests/plugins/runtime/test_runtime_unpack.py): first byte 0 as
# is, 1 gzip'd by the harness
def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for kind, name, arg in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(arg)
                tf.addfile(ti, io.BytesIO(arg))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = arg
                tf.addfile(ti)
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = arg
                tf.addfile(ti)
    data = buf.getvalue().rstrip(b"\0")
    # the two zero blocks that end a tar, without tarfile's padding to 10 KB
    return data + b"\0" * (-len(data) % 512 + 1024)


plain = layer([("dir", "etc", None), ("file", "etc/hostname", b"fuzz\n"),
               ("symlink", "bin", "usr/bin"), ("hardlink", "etc/h2", "etc/hostname"),
               ("file", "etc/.wh.gone", b"")])
put("unpack", "plain", b"\x00" + plain)
put("unpack", "plain-gz", b"\x01" + plain)
# one escape attempt each: the unpacker stops at the first refused entry
put("unpack", "escape-symlink", b"\x00" + layer([("symlink", "up", "../../.."),
                                                 ("file", "up/escaped", b"x")]))
put("unpack", "escape-absolute", b"\x00" + layer([("symlink", "abs", "/tmp"),
                                                  ("file", "abs/escaped", b"x")]))
put("unpack", "escape-dotdot", b"\x00" + layer([("file", "../dotdot", b"x")]))
put("unpack", "escape-hardlink", b"\x00" + layer([("hardlink", "hl", "../../../layer")]))
put("unpack", "gzip-file", b"\x00" + gzip.compress(plain, mtime=0))
