# SPDX-License-Identifier: LGPL-2.1-or-later
"""The DNS interface, with dnspython and dig."""

import random
import socket
import struct
import subprocess
import threading
import time

import consul
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1")


def ask(node, name, rdtype="A", tcp=False, use_edns=False, payload=512, timeout=3):
    q = dns.message.make_query(name, rdtype, use_edns=0 if use_edns else False,
                               payload=payload)
    q.flags &= ~dns.flags.RD
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=node.dns_port, timeout=timeout)
    return dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=timeout,
                         ignore_trailing=True, raise_on_truncation=False)


def addresses(resp):
    return sorted(r.address for rrset in resp.answer for r in rrset
                  if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA))


def register_web(c, statuses):
    for i, status in enumerate(statuses):
        assert c.agent.service.register(
            "web", service_id=f"web{i}", address=f"127.0.1.{i + 1}", port=8000 + i,
            tags=["prod"] if i % 2 == 0 else ["canary"], check=consul.Check.ttl("60s"))
        {"passing": c.agent.check.ttl_pass, "warning": c.agent.check.ttl_warn,
         "critical": c.agent.check.ttl_fail}[status](f"service:web{i}")


def test_service_a_records_healthy_only(node):
    c = node.consul()
    register_web(c, ["passing", "warning", "critical"])
    resp = ask(node, "web.service.consul.")
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert addresses(resp) == ["127.0.1.1", "127.0.1.2"]
    # with the datacenter
    assert addresses(ask(node, "web.service.dc1.consul.")) == ["127.0.1.1", "127.0.1.2"]
    # the unhealthy one comes back when it passes
    c.agent.check.ttl_pass("service:web2")
    assert addresses(ask(node, "web.service.consul.")) == ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
    # nothing healthy: NXDOMAIN
    for i in range(3):
        c.agent.check.ttl_fail(f"service:web{i}")
    resp = ask(node, "web.service.consul.")
    assert resp.rcode() == dns.rcode.NXDOMAIN


def test_tags_srv_and_rfc2782(node):
    c = node.consul()
    register_web(c, ["passing", "passing", "passing"])
    assert addresses(ask(node, "prod.web.service.consul.")) == ["127.0.1.1", "127.0.1.3"]
    assert addresses(ask(node, "canary.web.service.consul.")) == ["127.0.1.2"]

    resp = ask(node, "web.service.consul.", "SRV")
    srvs = sorted((r.port, r.target.to_text()) for rrset in resp.answer for r in rrset)
    assert [p for p, _ in srvs] == [8000, 8001, 8002]
    assert srvs[0][1] == "7f000101.addr.dc1.consul."
    extra = {rrset.name.to_text(): rrset[0].address for rrset in resp.additional
             if rrset.rdtype == dns.rdatatype.A}
    assert extra["7f000101.addr.dc1.consul."] == "127.0.1.1"

    resp = ask(node, "_web._canary.service.consul.", "SRV")
    assert [r.port for rrset in resp.answer for r in rrset] == [8001]
    resp = ask(node, "_web._tcp.service.consul.", "SRV")
    assert len([r for rrset in resp.answer for r in rrset]) == 3


def test_srv_node_target_when_service_has_no_address(node):
    c = node.consul()
    assert c.agent.service.register("db", service_id="db1", port=5432)
    resp = ask(node, "db.service.consul.", "SRV")
    srv = resp.answer[0][0]
    assert srv.target.to_text() == "node1.node.dc1.consul."
    assert srv.port == 5432
    assert resp.additional[0].name.to_text() == "node1.node.dc1.consul."
    assert resp.additional[0][0].address == "127.0.0.1"


def test_case_insensitive_question_echoed(node):
    c = node.consul()
    register_web(c, ["passing"])
    resp = ask(node, "WeB.SeRvIcE.CoNsUl.")
    assert resp.question[0].name.to_text() == "WeB.SeRvIcE.CoNsUl."
    assert resp.answer[0].name.to_text() == "WeB.SeRvIcE.CoNsUl."
    assert addresses(resp) == ["127.0.1.1"]


def test_nxdomain_with_soa_and_refused(node):
    resp = ask(node, "nothing.service.consul.")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.authority and resp.authority[0].rdtype == dns.rdatatype.SOA
    assert resp.authority[0].name.to_text() == "consul."
    resp = ask(node, "what.ever.consul.")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    resp = ask(node, "example.com.")
    assert resp.rcode() == dns.rcode.REFUSED
    resp = ask(node, "example.com.", tcp=True)
    assert resp.rcode() == dns.rcode.REFUSED


def test_node_addr_and_reverse(node):
    resp = ask(node, "node1.node.consul.")
    assert addresses(resp) == ["127.0.0.1"]
    assert addresses(ask(node, "node1.node.dc1.consul.")) == ["127.0.0.1"]
    assert ask(node, "ghost.node.consul.").rcode() == dns.rcode.NXDOMAIN
    assert addresses(ask(node, "0a000102.addr.dc1.consul.")) == ["10.0.1.2"]
    resp = ask(node, "1.0.0.127.in-addr.arpa.", "PTR")
    assert resp.answer[0][0].target.to_text() == "node1.node.dc1.consul."
    c = node.consul()
    c.catalog.register("ext", "10.9.8.7")
    assert addresses(ask(node, "ext.node.consul.")) == ["10.9.8.7"]
    resp = ask(node, "7.8.9.10.in-addr.arpa.", "PTR")
    assert resp.answer[0][0].target.to_text() == "ext.node.dc1.consul."


def test_truncation_udp_full_over_tcp(node):
    c = node.consul()
    n = 40
    for i in range(n):
        assert c.agent.service.register("big", service_id=f"big{i}",
                                        address=f"10.0.{i // 200}.{i % 200 + 1}", port=1000 + i)
    resp = ask(node, "big.service.consul.")
    assert resp.flags & dns.flags.TC
    assert 0 < len(addresses(resp)) < n
    assert len(resp.to_wire()) <= 512
    # EDNS0 with a larger buffer: everything
    resp = ask(node, "big.service.consul.", use_edns=True, payload=4096)
    assert not resp.flags & dns.flags.TC
    assert len(addresses(resp)) == n
    # EDNS0 with a small buffer: truncated to it
    resp = ask(node, "big.service.consul.", "SRV", use_edns=True, payload=1232)
    assert resp.flags & dns.flags.TC
    # TCP: everything, SRV with additional records
    resp = ask(node, "big.service.consul.", tcp=True)
    assert not resp.flags & dns.flags.TC
    assert len(addresses(resp)) == n
    resp = ask(node, "big.service.consul.", "SRV", tcp=True)
    assert len(resp.answer[0]) == n
    # shuffled: not always the same order
    orders = {tuple(r.address for r in ask(node, "big.service.consul.", tcp=True).answer[0])
              for _ in range(5)}
    assert len(orders) > 1


def test_dig(node):
    c = node.consul()
    register_web(c, ["passing", "critical"])
    dig = ["dig", "@127.0.0.1", "-p", str(node.dns_port), "+time=3", "+tries=1"]
    out = subprocess.run(dig + ["+short", "web.service.consul"], capture_output=True,
                         text=True, timeout=10).stdout.split()
    assert out == ["127.0.1.1"]
    out = subprocess.run(dig + ["+short", "+tcp", "_web._prod.service.consul", "SRV"],
                         capture_output=True, text=True, timeout=10).stdout
    assert "8000 7f000101.addr.dc1.consul." in out
    out = subprocess.run(dig + ["nope.service.consul"], capture_output=True, text=True,
                         timeout=10).stdout
    assert "status: NXDOMAIN" in out and "SOA" in out
    out = subprocess.run(dig + ["example.org"], capture_output=True, text=True,
                         timeout=10).stdout
    assert "status: REFUSED" in out


def test_custom_domain_and_ttl(discovery_node):
    node = discovery_node("node1", extra_config="[discovery]\ndomain = berth.\ndns_ttl = 30\n")
    c = node.consul()
    register_web(c, ["passing"])
    resp = ask(node, "web.service.berth.")
    assert addresses(resp) == ["127.0.1.1"]
    assert resp.answer[0].ttl == 30
    assert ask(node, "web.service.consul.").rcode() == dns.rcode.REFUSED


@pytest.fixture
def fake_recursor():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            q = dns.message.from_wire(data)
            r = dns.message.make_response(q)
            r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "192.0.2.7"))
            sock.sendto(r.to_wire(), peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield sock.getsockname()[1]
    stop.set()
    t.join()
    sock.close()


def test_recursors(discovery_node, fake_recursor):
    node = discovery_node("node1",
                          extra_config=f"[discovery]\nrecursors = 127.0.0.1:{fake_recursor}\n")
    resp = ask(node, "example.com.")
    assert resp.rcode() == dns.rcode.NOERROR
    assert addresses(resp) == ["192.0.2.7"]
    # the consul domain is still ours
    assert ask(node, "node1.node.consul.").answer[0][0].address == "127.0.0.1"


def _still_answers(node):
    # UDP: the flood may still fill the socket's buffer, and response-rate
    # limiting answers a source over its rate with a truncated (TC) slip or
    # nothing; a lost or slipped answer is not a dead server, so retry (a
    # crash fails every try)
    for attempt in range(10):
        try:
            resp = ask(node, "node1.node.consul.", timeout=2)
            if not resp.flags & dns.flags.TC:
                break
        except dns.exception.Timeout:
            pass
        if attempt == 9:
            pytest.fail("no full UDP answer after the flood")
        time.sleep(0.5)
    assert addresses(resp) == ["127.0.0.1"]
    resp = ask(node, "node1.node.consul.", tcp=True)
    assert addresses(resp) == ["127.0.0.1"]


def test_malformed_packets_never_crash(discovery_node):
    # response-rate limiting would throttle this one source's flood (its
    # own tests are in tests/plugins/security/test_limits_dns.py): off here
    node = discovery_node("node1", extra_config="[discovery]\ndns_rrl_rate = 0\n")
    c = node.consul()
    register_web(c, ["passing"])
    rng = random.Random(1234)
    good = [dns.message.make_query(n, t, use_edns=e).to_wire()
            for n, t, e in [("web.service.consul.", "A", False),
                            ("_web._prod.service.consul.", "SRV", 0),
                            ("node1.node.consul.", "AAAA", False),
                            ("1.0.0.127.in-addr.arpa.", "PTR", 0)]]
    corpus = [b"", b"\x00", b"\x12\x34", b"\x00" * 11, b"\x00" * 12, b"\xff" * 12,
              b"\xff" * 512, bytes(range(256)) * 4,
              # header claims questions and records that are not there
              struct.pack(">HHHHHH", 1, 0, 50, 50, 50, 50),
              # a compression pointer loop
              struct.pack(">HHHHHH", 2, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",
              # a label longer than the packet
              struct.pack(">HHHHHH", 3, 0, 1, 0, 0, 0) + b"\x3fabc",
              # an answer, not a query
              struct.pack(">HHHHHH", 4, 0x8180, 0, 0, 0, 0),
              # opcode 5 (update), two questions
              struct.pack(">HHHHHH", 5, 0x2800, 0, 0, 0, 0),
              good[0][:12] + b"\x00\x02" + good[0][14:] * 2]
    for g in good:
        for cut in range(0, len(g), 3):
            corpus.append(g[:cut])
        for _ in range(60):
            b = bytearray(g)
            for _ in range(rng.randint(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            corpus.append(bytes(b))
    for _ in range(100):
        corpus.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 600))))

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for p in corpus:
            if p:
                s.sendto(p, ("127.0.0.1", node.dns_port))
    finally:
        s.close()
    _still_answers(node)

    # over TCP: garbage in frames, truncated frames, bogus lengths
    for p in corpus[:120]:
        with socket.create_connection(("127.0.0.1", node.dns_port), timeout=3) as t:
            try:
                t.sendall(struct.pack(">H", len(p)) + p)
                t.sendall(struct.pack(">H", 500) + p[:10])
            except OSError:
                pass
    with socket.create_connection(("127.0.0.1", node.dns_port), timeout=3) as t:
        t.sendall(b"\x00")
    _still_answers(node)
    assert node.running


def test_service_names_case_insensitive(node):
    c = node.consul()
    assert c.agent.service.register("MixedCase", service_id="m1", address="127.0.2.1")
    assert addresses(ask(node, "mixedcase.service.consul.")) == ["127.0.2.1"]
    assert addresses(ask(node, "MIXEDCASE.service.consul.")) == ["127.0.2.1"]


def test_aaaa(node):
    c = node.consul()
    assert c.agent.service.register("v6", service_id="v6a", address="fd00::1", port=80)
    assert c.agent.service.register("v6", service_id="v6b", address="10.0.0.6", port=80)
    resp = ask(node, "v6.service.consul.", "AAAA")
    assert addresses(resp) == ["fd00::1"]
    resp = ask(node, "v6.service.consul.", "A")
    assert addresses(resp) == ["10.0.0.6"]
    resp = ask(node, "v6.service.consul.", "ANY")
    assert addresses(resp) == ["10.0.0.6", "fd00::1"]
    # the name exists, not with this type: NOERROR, no answer, the SOA
    resp = ask(node, "v6.service.consul.", "TXT")
    assert resp.rcode() == dns.rcode.NOERROR and not resp.answer and resp.authority


def test_reload_dns_settings(discovery_node, tmp_path, wait_until):
    import signal
    node = discovery_node("node1", extra_config="[discovery]\ndns_ttl = 5\n")
    assert ask(node, "node1.node.consul.").answer[0].ttl == 5
    conf = tmp_path / "node1.conf"
    conf.write_text(conf.read_text().replace("dns_ttl = 5", "dns_ttl = 9"))
    node.send_signal(signal.SIGHUP)
    wait_until(lambda: ask(node, "node1.node.consul.").answer[0].ttl == 9, 5, "the new TTL")
