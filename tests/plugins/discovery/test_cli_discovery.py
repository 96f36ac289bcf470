# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth service|check|members|join|dc: the CLI for the catalog."""

import json

import consul


def test_service_commands(discovery_node, run_cli, tmp_path):
    node = discovery_node("node1", dns=False)
    spec = tmp_path / "web.json"
    spec.write_text(json.dumps({"service": {
        "name": "web", "id": "web1", "port": 8080, "tags": ["blue"],
        "check": {"ttl": "60s"}}}))
    rc, out, err = run_cli(["service", "register", spec], berthd=node)
    assert rc == 0, err
    assert "web1" in node.consul().agent.services()
    rc, out, err = run_cli(["service", "register", "-"], berthd=node,
                           input=json.dumps({"Name": "db", "Port": 5432}))
    assert rc == 0, err

    rc, out, err = run_cli(["service", "ls"], berthd=node)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "TAGS"]
    assert any(l.split() == ["web", "blue"] for l in lines)
    assert any(l.split() == ["db"] for l in lines)

    rc, out, err = run_cli(["service", "show", "web"], berthd=node)
    assert rc == 0, err
    assert "web1" in out and "8080" in out and "critical" in out
    rc, out, err = run_cli(["--json", "service", "show", "web"], berthd=node)
    assert json.loads(out)[0]["Service"]["ID"] == "web1"
    rc, out, err = run_cli(["service", "show", "ghost"], berthd=node)
    assert rc == 1

    rc, out, err = run_cli(["check", "ls"], berthd=node)
    assert rc == 0, err
    assert "service:web1" in out and "ttl" in out

    rc, out, err = run_cli(["service", "deregister", "web1"], berthd=node)
    assert rc == 0, err
    assert "web1" not in node.consul().agent.services()
    rc, out, err = run_cli(["service", "deregister", "web1"], berthd=node)
    assert rc == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    rc, out, err = run_cli(["service", "register", bad], berthd=node)
    assert rc != 0


def test_members_join_dc(discovery_node, run_cli):
    dc1 = discovery_node("alpha", dc="dc1", dns=False)
    dc2 = discovery_node("beta", dc="dc2", dns=False)
    rc, out, err = run_cli(["members"], berthd=dc1)
    assert rc == 0, err
    assert out.splitlines()[0].split() == ["Node", "Address", "Status", "Type", "DC"]
    assert out.splitlines()[1].split()[0] == "alpha"
    rc, out, err = run_cli(["join", dc2.http_addr], berthd=dc1)
    assert rc == 2
    # joining is the admin's: over the unix socket (the private TCP
    # listener does not serve it)
    rc, out, err = run_cli(["join", "--wan", dc2.admin_addr], berthd=dc1)
    assert rc != 0 and "No such endpoint" in err
    # the other datacenter knows the token (the same management token)
    rc, out, err = run_cli(["--socket", dc1.socket, "--token", dc1.token,
                            "join", "--wan", dc2.admin_addr])
    assert rc == 0, err
    rc, out, err = run_cli(["dc", "ls"], berthd=dc1)
    assert rc == 0, err
    assert out.split() == ["dc1", "dc2"]
    rc, out, err = run_cli(["members", "--wan"], berthd=dc1)
    assert rc == 0, err
    assert "dc2" in out
