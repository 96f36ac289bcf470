# SPDX-License-Identifier: LGPL-2.1-or-later
"""DNS answers under the security plugin's ACLs (Consul's model): without
a DNS token the client is anonymous, which reads nothing by default; the
anonymous token's policy, or a token given as `[discovery] dns_token`,
decides which services and nodes DNS answers for."""

import json
import signal

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest


@pytest.fixture
def secured(berthd_factory, berth_env, tmp_path):
    conf = tmp_path / "berth.conf"
    conf.write_text("[berthd]\nnode_name = node1\n")
    port = berth_env.free_port()
    b = berthd_factory(extra_args=["--config", str(conf), "--dns-addr", f"127.0.0.1:{port}",
                                   "--disable-plugin", "runtime", "--disable-plugin", "scheduler"])
    b.dns_port = port
    b.conf = conf
    # ACL management is in the admin zone: the unix socket
    r = b.unix_request("GET", "/v1/acl/policies")
    if r.status == 404:
        pytest.skip("no security plugin in this build")
    assert r.status == 200, r
    c = b.consul()
    assert c.agent.service.register("web", service_id="web1", address="127.0.3.1", port=80)
    assert c.agent.service.register("db", service_id="db1", address="127.0.3.2", port=5432)
    return b


def ask(b, name, tcp=False):
    q = dns.message.make_query(name, "A")
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=b.dns_port, timeout=3)
    return dns.query.udp(q, "127.0.0.1", port=b.dns_port, timeout=3)


def addresses(resp):
    return sorted(r.address for rrset in resp.answer for r in rrset
                  if rrset.rdtype == dns.rdatatype.A)


def test_anonymous_reads_nothing_until_its_policy_allows(secured, wait_until):
    b = secured
    for name in ("web.service.consul.", "db.service.consul.", "node1.node.consul."):
        assert ask(b, name).rcode() == dns.rcode.NXDOMAIN, name
    b.allow_anonymous('service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }\n')
    wait_until(lambda: addresses(ask(b, "web.service.consul.")) == ["127.0.3.1"],
               what="web readable by the anonymous token")
    assert ask(b, "db.service.consul.", tcp=True).rcode() == dns.rcode.NXDOMAIN
    assert ask(b, "node1.node.consul.").rcode() == dns.rcode.NOERROR


def test_dns_token(secured, wait_until):
    b = secured
    r = b.unix_request("PUT", "/v1/acl/policy", body=json.dumps({
        "Name": "dns-db", "Rules": 'service "db" { policy = "read" }\n'
                                  'node_prefix "" { policy = "read" }\n'}))
    assert r.status == 200, r
    r = b.unix_request("PUT", "/v1/acl/token", body=json.dumps({"Policies": [{"Name": "dns-db"}]}))
    assert r.status == 200, r
    secret = r.json()["SecretID"]
    b.conf.write_text(b.conf.read_text() + f"[discovery]\ndns_token = {secret}\n")
    b.send_signal(signal.SIGHUP)
    wait_until(lambda: addresses(ask(b, "db.service.consul.")) == ["127.0.3.2"],
               what="db readable with the DNS token")
    assert ask(b, "web.service.consul.").rcode() == dns.rcode.NXDOMAIN
    # the token is revoked: DNS reads nothing again
    accessor = r.json()["AccessorID"]
    assert b.unix_request("DELETE", f"/v1/acl/token/{accessor}").status == 200
    wait_until(lambda: ask(b, "db.service.consul.").rcode() == dns.rcode.NXDOMAIN,
               what="db hidden once the token is gone")
