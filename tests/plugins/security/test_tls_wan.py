# SPDX-License-Identifier: LGPL-2.1-or-later
"""Datacenter links over HTTPS: with TLS configured, `join -wan` and
?dc= forwarding go to the other side's HTTPS address and trust only this
datacenter's CA. A member is a node given the CA certificate and a node
certificate issued by `berth tls cert create --node`; a node with a CA of
its own is neither joined nor joins."""

import json
import shutil
import subprocess
import uuid

from tests.conftest import free_port

READ_RULES = 'agent_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }\n'
# datacenters share their management token (tokens are not replicated):
# the join and forwarded requests carry the caller's token to the other side
MANAGEMENT = str(uuid.uuid4())


def tls_node(berthd_factory, tmp_path, name, dc, prepare=None):
    conf = tmp_path / f"{name}.conf"
    conf.write_text(f"[berthd]\nnode_name = {name}\ndatacenter = {dc}\n"
                    f"[tls]\nverify_incoming = true\n"
                    f"[security]\ninitial_management = {MANAGEMENT}\n")
    b = berthd_factory(name=name, start=False)
    b.https_port = free_port()
    if prepare is not None:
        prepare(b)
    b.start(["--config", conf, "--https-addr", f"127.0.0.1:{b.https_port}",
             "--dns-addr", f"127.0.0.1:{free_port()}"])
    b.allow_anonymous(READ_RULES)
    b.ca = b.state_dir / "tls" / "ca.pem"
    return b


def admin(b, method, path):
    r = b.unix_request(method, path, headers={"X-Consul-Token": b.token or ""})
    return r


def test_wan_link_over_https_between_members_only(berthd_factory, tmp_path, run_cli):
    alpha = tls_node(berthd_factory, tmp_path, "alpha", "dc1")

    # beta is made a member: alpha's CA, and a node certificate alpha issued
    certs = tmp_path / "beta-certs"
    certs.mkdir()
    rc, out, err = run_cli(["--socket", alpha.socket, "tls", "cert", "create", "--node", "beta",
                            "--address", "127.0.0.1", "--out", certs], berthd=alpha)
    assert rc == 0, err

    def make_member(b):
        tls_dir = b.state_dir / "tls"
        tls_dir.mkdir(mode=0o700)
        shutil.copy(alpha.ca, tls_dir / "ca.pem")
        shutil.copy(certs / "beta.pem", tls_dir / "server.pem")
        shutil.copy(certs / "beta-key.pem", tls_dir / "server-key.pem")

    beta = tls_node(berthd_factory, tmp_path, "beta", "dc2", prepare=make_member)
    assert not (beta.state_dir / "tls" / "ca-key.pem").exists()
    # beta serves the certificate alpha issued, and cannot issue itself
    rc, out, err = run_cli(["--socket", beta.socket, "tls", "cert", "create", "--client", "x",
                            "--out", tmp_path], berthd=beta)
    assert rc == 1 and "CA's key" in err, err

    r = admin(alpha, "PUT", f"/v1/agent/join/127.0.0.1:{beta.https_port}?wan=1")
    assert r.status == 200, r
    r = admin(alpha, "GET", "/v1/catalog/datacenters")
    assert r.json() == ["dc1", "dc2"]
    # a request for dc2 goes to beta over HTTPS (beta takes no plain-text
    # nor certificate-less connection on that port)
    r = alpha.unix_request("GET", "/v1/catalog/nodes?dc=dc2", headers={"X-Consul-Token": ""})
    assert r.status == 200, r
    assert [n["Node"] for n in r.json()] == ["beta"]
    assert r.json()[0]["Datacenter"] == "dc2"

    # gamma has a CA of its own: alpha does not join it, it does not join alpha
    gamma = tls_node(berthd_factory, tmp_path, "gamma", "dc3")
    r = admin(alpha, "PUT", f"/v1/agent/join/127.0.0.1:{gamma.https_port}?wan=1")
    assert r.status == 500, r
    assert "Failed to join" in r.json()["message"]
    assert admin(alpha, "GET", "/v1/catalog/datacenters").json() == ["dc1", "dc2"]
    r = admin(gamma, "PUT", f"/v1/agent/join/127.0.0.1:{alpha.https_port}?wan=1")
    assert r.status == 500, r
    assert admin(gamma, "GET", "/v1/catalog/datacenters").json() == ["dc3"]
    # nor can gamma's certificate read alpha directly
    gamma_cert = gamma.state_dir / "tls"
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", str(alpha.ca),
                        "--cert", str(gamma_cert / "server.pem"),
                        "--key", str(gamma_cert / "server-key.pem"),
                        f"https://127.0.0.1:{alpha.https_port}/v1/catalog/nodes"],
                       capture_output=True, text=True)
    assert p.returncode != 0, p.stdout
