# SPDX-License-Identifier: LGPL-2.1-or-later
"""DNS response-rate limiting ([discovery] dns_rrl_rate, dns_rrl_slip): a
source address over its rate gets, for every slip-th query, an empty answer
with TC set (so a real resolver asks again over TCP, which is not limited)
and nothing for the others; other sources are not affected."""

import select
import socket
import subprocess
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest


@pytest.fixture
def dns_node(berthd_factory, berth_env, tmp_path):
    def make(rate, slip):
        conf = tmp_path / "berth.conf"
        conf.write_text(f"[berthd]\nnode_name = node1\n"
                        f"[discovery]\ndns_rrl_rate = {rate}\ndns_rrl_slip = {slip}\n")
        port = berth_env.free_port()
        # only discovery: the ACLs on DNS answers are tests/plugins/discovery/test_dns_acl.py's
        args = ["--config", str(conf), "--dns-addr", f"127.0.0.1:{port}"]
        for plugin in ("runtime", "scheduler", "monitoring", "security"):
            args += ["--disable-plugin", plugin]
        b = berthd_factory(extra_args=args)
        b.dns_port = port
        return b
    return make


def burst(node, n, source="127.0.0.1", wait=1.0):
    """Sends n queries at once from one socket; returns the answers that came
    (dns.message objects) within `wait` seconds of the last."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    try:
        for i in range(n):
            q = dns.message.make_query("node1.node.consul.", "A")
            q.id = i
            s.sendto(q.to_wire(), ("127.0.0.1", node.dns_port))
        answers = []
        s.settimeout(wait * node.TIME_SCALE)
        while True:
            try:
                data = s.recv(65535)
            except socket.timeout:
                break
            answers.append(dns.message.from_wire(data))
        return answers
    finally:
        s.close()


def dig(node, *args, source="127.0.0.1"):
    out = subprocess.run(["dig", "-b", source, "-p", str(node.dns_port), "@127.0.0.1",
                          "+tries=1", "+time=2", *args, "node1.node.consul"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout


def flags_line(text):
    return next((line for line in text.splitlines() if line.startswith(";; flags:")), "")


def test_slip_truncates_and_dig_retries_over_tcp(dns_node):
    node = dns_node(rate=1, slip=1)
    time.sleep(1.1)
    answers = burst(node, 20)
    full = [a for a in answers if not a.flags & dns.flags.TC]
    truncated = [a for a in answers if a.flags & dns.flags.TC]
    # one answer a second; every other query gets TC (slip 1), nothing dropped
    assert 1 <= len(full) <= 2, answers
    assert len(full) + len(truncated) == 20
    for a in truncated:
        assert a.rcode() == dns.rcode.NOERROR
        assert a.answer == [] and a.authority == [] and a.additional == []
        assert a.question[0].name.to_text() == "node1.node.consul."
    # dig sees the TC flag when told not to retry over TCP...
    burst(node, 5, wait=0.1)
    assert " tc" in flags_line(dig(node, "+ignore", "+notcp"))
    # ...and by default retries over TCP, which is not limited
    burst(node, 5, wait=0.1)
    out = dig(node)
    assert "status: NOERROR" in out and " tc" not in flags_line(out)
    assert "127.0.0.1" in dig(node, "+short", "+tcp")
    # another source address is answered in full meanwhile
    burst(node, 5, wait=0.1)
    out = dig(node, "+ignore", "+notcp", source="127.0.0.2")
    assert "status: NOERROR" in out and " tc" not in flags_line(out)


def test_slip_two_drops_every_other(dns_node):
    node = dns_node(rate=2, slip=2)
    time.sleep(1.1)
    answers = burst(node, 40)
    full = [a for a in answers if not a.flags & dns.flags.TC]
    truncated = [a for a in answers if a.flags & dns.flags.TC]
    over = 40 - len(full)
    assert 2 <= len(full) <= 4, len(full)
    # half of the queries over the rate get TC, the others nothing
    assert abs(len(truncated) - over // 2) <= 1, (len(truncated), over)
    assert len(answers) < 40
    # the source recovers once it is quiet
    time.sleep(1.1)
    answers = burst(node, 2)
    assert [bool(a.flags & dns.flags.TC) for a in answers] == [False, False]
    # TCP queries are never limited
    for _ in range(20):
        q = dns.message.make_query("node1.node.consul.", "A")
        r = dns.query.tcp(q, "127.0.0.1", port=node.dns_port, timeout=5)
        assert r.rcode() == dns.rcode.NOERROR and r.answer


def test_rate_zero_is_off(dns_node):
    node = dns_node(rate=0, slip=2)
    answers = burst(node, 200)
    assert len(answers) == 200
    assert not any(a.flags & dns.flags.TC for a in answers)


def test_tcp_connections_capped_per_source(dns_node):
    node = dns_node(rate=0, slip=2)
    held = []
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", node.dns_port), timeout=5)
            held.append(s)
        # the server closes those beyond the per-source share at once (the
        # others stay open until their idle timeout, 10 s)
        time.sleep(0.5 * node.TIME_SCALE)
        readable, _, _ = select.select(held, [], [], 0)
        closed = 0
        for s in readable:
            try:
                if s.recv(1) == b"":
                    closed += 1
            except ConnectionResetError:
                closed += 1
        assert closed == 8, closed
        # another source still gets TCP answers
        s2 = socket.socket()
        s2.bind(("127.0.0.2", 0))
        s2.settimeout(5)
        s2.connect(("127.0.0.1", node.dns_port))
        q = dns.message.make_query("node1.node.consul.", "A")
        r = dns.query.tcp(q, "127.0.0.1", port=node.dns_port, sock=s2, timeout=5)
        assert r.rcode() == dns.rcode.NOERROR and r.answer
        s2.close()
    finally:
        for s in held:
            s.close()
    # once they are gone, the source is served over TCP again
    deadline = time.monotonic() + 5 * node.TIME_SCALE
    while True:
        try:
            r = dns.query.tcp(dns.message.make_query("node1.node.consul.", "A"), "127.0.0.1",
                              port=node.dns_port, timeout=2)
            break
        except (OSError, EOFError, dns.exception.DNSException):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert r.rcode() == dns.rcode.NOERROR and r.answer
