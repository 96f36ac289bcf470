# SPDX-License-Identifier: LGPL-2.1-or-later
"""DNS answers follow the ACLs: a service or node the DNS client may not
read does not exist for it (NXDOMAIN), and a service's instances on nodes
it may not read are left out.  The client holds the token `[discovery]
dns_token`, or none (anonymous).

The authority is the test plugin tests/plugins/testauth-dns (its rules are
in its header comment): reads of services `secret*` and nodes `hidden*` are
denied unless the token is `dns-reader`; the service `tcp-only` is readable
only by a TCP caller with a 127.0.0.1 address, which is what the DNS door
must make of a query."""

import signal
import subprocess

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

TESTAUTH_DNS = "plugins/testauth-dns/berth-testauth-dns.so"


@pytest.fixture
def guarded_node(discovery_node, berth_env, tmp_path):
    def make(extra_config=""):
        plugin = berth_env.build_dir / "tests" / TESTAUTH_DNS
        if not plugin.exists():
            pytest.fail(f"{plugin} was not built")
        plugin_dir = tmp_path / "plugins"
        plugin_dir.mkdir(exist_ok=True)
        for name, target in (("berth-testauth-dns.so", plugin),
                             ("berth-discovery.so", berth_env.discovery_plugin)):
            if not (plugin_dir / name).exists():
                (plugin_dir / name).symlink_to(target)
        node = discovery_node("node1", extra_config=extra_config,
                              extra_args=["--plugin-dir", plugin_dir])
        register(node)
        return node
    return make


def register(node):
    c = node.consul()
    # web on node1 (the agent's own node) and on a node the client may not read
    assert c.agent.service.register("web", service_id="web1", address="127.0.2.1", port=80)
    assert c.catalog.register("hidden-box", "127.0.2.9",
                              service={"Service": "web", "ID": "web9", "Port": 80,
                                       "Address": "127.0.2.9"})
    assert c.agent.service.register("secret-db", service_id="db1", address="127.0.2.2", port=5432)
    assert c.agent.service.register("tcp-only", service_id="t1", address="127.0.2.3", port=1)


def ask(node, name, rdtype="A", tcp=False):
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=node.dns_port, timeout=3)
    return dns.query.udp(q, "127.0.0.1", port=node.dns_port, timeout=3)


def addresses(resp):
    return sorted(r.address for rrset in resp.answer for r in rrset
                  if rrset.rdtype == dns.rdatatype.A)


def dig(node, *args):
    out = subprocess.run(["dig", "-p", str(node.dns_port), "@127.0.0.1", "+tries=1", "+time=3",
                          *args], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_anonymous_sees_only_what_it_may_read(guarded_node):
    node = guarded_node()
    for tcp in (False, True):
        # the instance on the hidden node is left out
        resp = ask(node, "web.service.consul.", tcp=tcp)
        assert resp.rcode() == dns.rcode.NOERROR
        assert addresses(resp) == ["127.0.2.1"]
        resp = ask(node, "web.service.consul.", "SRV", tcp=tcp)
        targets = sorted(r.target.to_text() for rrset in resp.answer for r in rrset)
        assert targets == ["7f000201.addr.dc1.consul."]
        # a service it may not read does not exist
        resp = ask(node, "secret-db.service.consul.", tcp=tcp)
        assert resp.rcode() == dns.rcode.NXDOMAIN
        assert resp.answer == []
        resp = ask(node, "_secret-db._tcp.service.consul.", "SRV", tcp=tcp)
        assert resp.rcode() == dns.rcode.NXDOMAIN
        # nor a node
        assert ask(node, "hidden-box.node.consul.", tcp=tcp).rcode() == dns.rcode.NXDOMAIN
        resp = ask(node, dns.reversename.from_address("127.0.2.9").to_text(), "PTR", tcp=tcp)
        assert resp.rcode() == dns.rcode.NXDOMAIN
        # what it may read is answered
        resp = ask(node, "node1.node.consul.", tcp=tcp)
        assert resp.rcode() == dns.rcode.NOERROR and len(addresses(resp)) == 1
        # the DNS client is a TCP caller with its address (UDP queries too)
        assert addresses(ask(node, "tcp-only.service.consul.", tcp=tcp)) == ["127.0.2.3"]
    # dig, as a user would
    assert "status: NXDOMAIN" in dig(node, "secret-db.service.consul")
    assert dig(node, "+short", "web.service.consul").split() == ["127.0.2.1"]
    # the catalog still has both, for a token that may read them
    c = node.consul(token="dns-reader")
    assert sorted(n["Node"] for n in c.catalog.service("web")[1]) == ["hidden-box", "node1"]


def test_dns_token_reads_more_and_reloads(guarded_node, wait_until):
    node = guarded_node("[discovery]\ndns_token = dns-reader\n")
    assert addresses(ask(node, "web.service.consul.")) == ["127.0.2.1", "127.0.2.9"]
    assert addresses(ask(node, "secret-db.service.consul.")) == ["127.0.2.2"]
    assert addresses(ask(node, "hidden-box.node.consul.", tcp=True)) == ["127.0.2.9"]
    resp = ask(node, dns.reversename.from_address("127.0.2.9").to_text(), "PTR")
    assert [r.target.to_text() for rrset in resp.answer for r in rrset] == \
        ["hidden-box.node.dc1.consul."]

    # without the token (SIGHUP rereads the configuration), it is anonymous again
    conf = node.workdir.parent / "node1.conf"
    conf.write_text(conf.read_text().replace("dns_token = dns-reader", ""))
    node.send_signal(signal.SIGHUP)
    wait_until(lambda: ask(node, "secret-db.service.consul.").rcode() == dns.rcode.NXDOMAIN,
               what="the token dropped after SIGHUP")
    assert addresses(ask(node, "web.service.consul.")) == ["127.0.2.1"]


def test_a_wrong_token_is_anonymous(guarded_node):
    node = guarded_node("[discovery]\ndns_token = something-else\n")
    assert ask(node, "secret-db.service.consul.").rcode() == dns.rcode.NXDOMAIN
    assert addresses(ask(node, "web.service.consul.")) == ["127.0.2.1"]
