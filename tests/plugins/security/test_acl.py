# SPDX-License-Identifier: LGPL-2.1-or-later
"""ACL tokens and policies, as Consul's clients see them: default deny,
rules (prefixes, exact names, deny, several policies), the /v1/acl
endpoints (current and legacy, the latter through python-consul), the
bootstrap (once; under --dev at the first start), the unix socket's
owner managing without a token, and the `berth acl` command.

The ACL endpoints are in the admin zone: each daemon here also listens on
an admin address. Every request names its token explicitly (an empty
X-Consul-Token is the anonymous caller)."""

import json
import os
import stat
import subprocess

import consul
import pytest
import requests

from tests.conftest import free_port

ANON = {"X-Consul-Token": ""}


def tok(secret):
    return {"X-Consul-Token": secret}


@pytest.fixture
def acl(berthd_factory):
    admin = free_port()
    b = berthd_factory(extra_args=["--listen", f"admin=127.0.0.1:{admin}"])
    b.admin_port = admin
    b.admin_url = f"http://127.0.0.1:{admin}"
    assert b.token, "the daemon was not bootstrapped"
    return b


def admin(b, method, path, token, **kwargs):
    return requests.request(method, b.admin_url + path, headers=tok(token), timeout=10, **kwargs)


def make_policy(b, name, rules):
    r = admin(b, "PUT", "/v1/acl/policy", b.token, json={"Name": name, "Rules": rules})
    assert r.status_code == 200, r.text
    return r.json()


def make_token(b, *policy_names, description="test"):
    r = admin(b, "PUT", "/v1/acl/token", b.token,
              json={"Description": description, "Policies": [{"Name": n} for n in policy_names]})
    assert r.status_code == 200, r.text
    return r.json()


def kv_put(b, key, token, value=b"v"):
    return b.put(f"/v1/kv/{key}", data=value, headers=tok(token))


def kv_get(b, key, token):
    return b.get(f"/v1/kv/{key}", headers=tok(token))


# --- default deny ------------------------------------------------------------


def test_default_deny_without_token_and_unknown_token(acl):
    r = kv_put(acl, "x", "")
    assert r.status_code == 403
    assert r.text == "Permission denied"
    r = kv_get(acl, "x", "")
    assert r.status_code == 403
    assert r.text == "Permission denied"
    r = requests.get(acl.url + "/v1/kv/x", params={"token": "no-such-token"}, timeout=10)
    assert r.status_code == 403
    assert r.text == "ACL not found"
    # nothing was written by the refused put
    assert kv_get(acl, "x", acl.token).status_code == 404
    assert kv_put(acl, "x", acl.token).status_code == 200
    assert kv_get(acl, "x", acl.token).status_code == 200
    # python-consul raises its permission error
    c = consul.Consul(host=acl.host, port=acl.port, token="no-such-token")
    with pytest.raises(consul.ACLPermissionDenied):
        c.kv.put("y", "v")


def test_unix_socket_as_own_user_needs_no_token(acl):
    r = acl.unix_request("PUT", "/v1/kv/local", body=b"v")
    assert r.status == 200, r
    r = acl.unix_request("GET", "/v1/kv/local?raw")
    assert r.status == 200 and r.body == b"v"
    r = acl.unix_request("GET", "/v1/acl/tokens")
    assert r.status == 200
    assert any(t["AccessorID"] == "00000000-0000-0000-0000-000000000002" for t in r.json())


# --- rules through the API --------------------------------------------------


def test_team_token_writes_its_prefix_only(acl):
    make_policy(acl, "team-a", 'key_prefix "team-a/" {\n  policy = "write"\n}\n')
    t = make_token(acl, "team-a")
    secret = t["SecretID"]
    r = kv_put(acl, "team-a/x", secret, b"hello")
    assert r.status_code == 200 and r.json() is True
    assert kv_get(acl, "team-a/x", secret).status_code == 200
    r = kv_put(acl, "team-b/x", secret)
    assert r.status_code == 403 and r.text == "Permission denied"
    assert kv_get(acl, "team-b/x", acl.token).status_code == 404
    assert kv_put(acl, "team-b/y", acl.token).status_code == 200
    assert kv_get(acl, "team-b/y", secret).status_code == 403
    # no ACL management with a team token, on any listener
    assert admin(acl, "GET", "/v1/acl/tokens", secret).status_code == 403
    # the token knows itself
    r = admin(acl, "GET", "/v1/acl/token/self", secret)
    assert r.status_code == 200
    assert r.json()["AccessorID"] == t["AccessorID"]
    assert [p["Name"] for p in r.json()["Policies"]] == ["team-a"]


def test_longest_prefix_exact_and_deny(acl):
    make_policy(acl, "layered", """
        key_prefix "" { policy = "read" }
        key_prefix "app/" { policy = "write" }
        key_prefix "app/secret/" { policy = "deny" }
        key "app/secret/public" { policy = "read" }
        key "app/frozen" { policy = "read" }
    """)
    for key in ("other", "app/x", "app/secret/x", "app/secret/public", "app/frozen"):
        assert kv_put(acl, key, acl.token).status_code == 200
    s = make_token(acl, "layered")["SecretID"]
    assert kv_get(acl, "other", s).status_code == 200
    assert kv_put(acl, "other", s).status_code == 403
    assert kv_put(acl, "app/x", s).status_code == 200
    assert kv_get(acl, "app/secret/x", s).status_code == 403
    assert kv_get(acl, "app/secret/public", s).status_code == 200
    assert kv_put(acl, "app/secret/public", s).status_code == 403
    assert kv_put(acl, "app/frozen", s).status_code == 403
    assert kv_put(acl, "app/frozen2", s).status_code == 200


def test_two_policies_merge_deny_wins(acl):
    make_policy(acl, "p-read", 'key_prefix "m/" { policy = "read" }\nkey_prefix "n/" { policy = "write" }')
    make_policy(acl, "p-write", 'key_prefix "m/" { policy = "write" }\nkey_prefix "n/" { policy = "deny" }')
    s = make_token(acl, "p-read", "p-write")["SecretID"]
    assert kv_put(acl, "m/1", s).status_code == 200
    assert kv_put(acl, "n/1", s).status_code == 403
    assert kv_get(acl, "n/1", s).status_code == 403


def test_policy_update_takes_effect_at_once(acl):
    p = make_policy(acl, "changing", 'key_prefix "c/" { policy = "read" }')
    s = make_token(acl, "changing")["SecretID"]
    assert kv_put(acl, "c/1", s).status_code == 403
    r = admin(acl, "PUT", f"/v1/acl/policy/{p['ID']}", acl.token,
              json={"Name": "changing", "Rules": 'key_prefix "c/" { policy = "write" }'})
    assert r.status_code == 200, r.text
    assert r.json()["ModifyIndex"] > p["ModifyIndex"]
    assert kv_put(acl, "c/1", s).status_code == 200


def test_service_read_lists_are_filtered_by_rules(acl):
    c = acl.consul()
    c.agent.service.register("web", service_id="web")
    c.agent.service.register("db", service_id="db")
    make_policy(acl, "web-reader", 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }')
    s = make_token(acl, "web-reader")["SecretID"]
    r = acl.get("/v1/catalog/services", headers=tok(s))
    assert r.status_code == 200
    assert "web" in r.json() and "db" not in r.json()
    assert acl.get("/v1/catalog/service/db", headers=tok(s)).status_code == 403
    assert acl.get("/v1/catalog/services", headers=ANON).status_code == 403


# --- the endpoints ----------------------------------------------------------


def test_token_endpoints_shapes_and_lifecycle(acl):
    p = make_policy(acl, "shape", 'key_prefix "s/" { policy = "read" }')
    assert set(p) >= {"ID", "Name", "Description", "Rules", "Datacenters", "Hash",
                      "CreateIndex", "ModifyIndex"}
    r = admin(acl, "GET", "/v1/acl/policy/name/shape", acl.token)
    assert r.status_code == 200 and r.json()["ID"] == p["ID"]
    assert admin(acl, "GET", f"/v1/acl/policy/{p['ID']}", acl.token).json()["Rules"] == p["Rules"]
    names = [x["Name"] for x in admin(acl, "GET", "/v1/acl/policies", acl.token).json()]
    assert "global-management" in names and "shape" in names

    t = make_token(acl, "shape", description="first")
    assert set(t) >= {"AccessorID", "SecretID", "Description", "Policies", "Local",
                      "CreateTime", "Hash", "CreateIndex", "ModifyIndex"}
    assert t["Policies"] == [{"ID": p["ID"], "Name": "shape"}]
    r = admin(acl, "GET", f"/v1/acl/token/{t['AccessorID']}", acl.token)
    assert r.status_code == 200 and r.json()["SecretID"] == t["SecretID"]

    r = admin(acl, "PUT", f"/v1/acl/token/{t['AccessorID']}", acl.token,
              json={"Description": "renamed", "Policies": [{"ID": p["ID"]}]})
    assert r.status_code == 200 and r.json()["Description"] == "renamed"
    assert r.json()["SecretID"] == t["SecretID"]

    r = admin(acl, "PUT", f"/v1/acl/token/{t['AccessorID']}/clone", acl.token,
              json={"Description": "clone"})
    assert r.status_code == 200
    clone = r.json()
    assert clone["AccessorID"] != t["AccessorID"] and clone["SecretID"] != t["SecretID"]
    assert clone["Policies"] == t["Policies"] and clone["Description"] == "clone"

    accessors = [x["AccessorID"] for x in admin(acl, "GET", "/v1/acl/tokens", acl.token).json()]
    assert t["AccessorID"] in accessors and clone["AccessorID"] in accessors

    r = admin(acl, "DELETE", f"/v1/acl/token/{t['AccessorID']}", acl.token)
    assert r.status_code == 200 and r.json() is True
    assert admin(acl, "GET", f"/v1/acl/token/{t['AccessorID']}", acl.token).status_code == 404
    assert admin(acl, "DELETE", f"/v1/acl/token/{t['AccessorID']}", acl.token).status_code == 404
    # the deleted secret no longer works; the clone does
    assert kv_get(acl, "s/x", t["SecretID"]).text == "ACL not found"
    assert kv_get(acl, "s/x", clone["SecretID"]).status_code == 404

    r = admin(acl, "DELETE", f"/v1/acl/policy/{p['ID']}", acl.token)
    assert r.status_code == 200 and r.json() is True
    assert admin(acl, "GET", "/v1/acl/policy/name/shape", acl.token).status_code == 404
    # a token whose policy is gone keeps no rights from it
    assert kv_get(acl, "s/x", clone["SecretID"]).status_code == 403


def test_bad_input_changes_nothing(acl):
    before_policies = admin(acl, "GET", "/v1/acl/policies", acl.token).json()
    before_tokens = admin(acl, "GET", "/v1/acl/tokens", acl.token).json()

    r = admin(acl, "PUT", "/v1/acl/policy", acl.token,
              json={"Name": "bad", "Rules": 'key_prefix "a/" {\n  policy = "sometimes"\n}'})
    assert r.status_code == 400
    assert "line 2" in r.json()["message"]
    r = admin(acl, "PUT", "/v1/acl/policy", acl.token, json={"Name": "bad", "Rules": "frob = \"x\""})
    assert r.status_code == 400
    r = admin(acl, "PUT", "/v1/acl/policy", acl.token, json={"Rules": ""})
    assert r.status_code == 400
    r = admin(acl, "PUT", "/v1/acl/policy", acl.token, json={"Name": "no spaces allowed"})
    assert r.status_code == 400
    r = admin(acl, "PUT", "/v1/acl/policy", acl.token, data=b"{not json")
    assert r.status_code == 400
    r = admin(acl, "PUT", "/v1/acl/policy", acl.token, json={"Name": "global-management"})
    assert r.status_code == 409
    r = admin(acl, "PUT", "/v1/acl/token", acl.token, json={"Policies": [{"Name": "no-such"}]})
    assert r.status_code == 400 and "no-such" in r.json()["message"]
    r = admin(acl, "PUT", "/v1/acl/token", acl.token,
              json={"Policies": [{"ID": "11111111-2222-3333-4444-555555555555"}]})
    assert r.status_code == 400
    r = admin(acl, "PUT", "/v1/acl/token", acl.token, json={"SecretID": acl.token})
    assert r.status_code == 409
    r = admin(acl, "GET", "/v1/acl/token/11111111-2222-3333-4444-555555555555", acl.token)
    assert r.status_code == 404
    r = admin(acl, "DELETE", "/v1/acl/policy/00000000-0000-0000-0000-000000000001", acl.token)
    assert r.status_code == 400
    r = admin(acl, "DELETE", "/v1/acl/token/00000000-0000-0000-0000-000000000002", acl.token)
    assert r.status_code == 400

    assert admin(acl, "GET", "/v1/acl/policies", acl.token).json() == before_policies
    assert admin(acl, "GET", "/v1/acl/tokens", acl.token).json() == before_tokens
    # management still works after all this
    assert kv_put(acl, "still", acl.token).status_code == 200


def test_duplicate_policy_name_conflicts(acl):
    make_policy(acl, "dup", "")
    r = admin(acl, "PUT", "/v1/acl/policy", acl.token, json={"Name": "dup", "Rules": ""})
    assert r.status_code == 409
    names = [x["Name"] for x in admin(acl, "GET", "/v1/acl/policies", acl.token).json()]
    assert names.count("dup") == 1


def test_acl_routes_are_admin_only(acl):
    # the private listener does not even show them
    r = acl.get("/v1/acl/tokens", headers=tok(acl.token))
    assert r.status_code == 404
    r = admin(acl, "GET", "/v1/acl/tokens", acl.token)
    assert r.status_code == 200


# --- python-consul's legacy API -----------------------------------------------


def test_python_consul_legacy_acl_api(acl):
    c = consul.Consul(host="127.0.0.1", port=acl.admin_port, token=acl.token)
    kv = consul.Consul(host=acl.host, port=acl.port)
    rules = 'key "legacy/" {\n  policy = "write"\n}\nkey "legacy/private/" {\n  policy = "deny"\n}\n'
    acl_id = c.acl.create(name="legacy client", rules=rules)
    assert isinstance(acl_id, str) and acl_id

    info = c.acl.info(acl_id)
    assert info["ID"] == acl_id
    assert info["Name"] == "legacy client"
    assert info["Type"] == "client"
    assert info["Rules"] == rules

    # legacy rules match by prefix, as they did
    assert kv.kv.put("legacy/a", "1", token=acl_id) is True
    with pytest.raises(consul.ACLPermissionDenied):
        kv.kv.put("legacy/private/a", "1", token=acl_id)
    with pytest.raises(consul.ACLPermissionDenied):
        kv.kv.put("other", "1", token=acl_id)

    assert acl_id in [t["ID"] for t in c.acl.list()]

    assert c.acl.update(acl_id, name="renamed", rules='key "other" { policy = "write" }') == acl_id
    info = c.acl.info(acl_id)
    assert info["Name"] == "renamed" and "other" in info["Rules"]
    assert kv.kv.put("other", "1", token=acl_id) is True
    with pytest.raises(consul.ACLPermissionDenied):
        kv.kv.put("legacy/a", "2", token=acl_id)

    clone = c.acl.clone(acl_id)
    assert clone != acl_id
    assert c.acl.info(clone)["Rules"] == c.acl.info(acl_id)["Rules"]

    assert c.acl.destroy(acl_id) is True
    assert c.acl.info(acl_id) is None
    with pytest.raises(consul.ACLPermissionDenied) as e:
        kv.kv.put("other", "1", token=acl_id)
    assert "ACL not found" in str(e.value)
    assert kv.kv.put("other", "2", token=clone) is True

    mgmt = c.acl.create(name="ops", type="management", acl_id="my-own-legacy-id")
    assert mgmt == "my-own-legacy-id"
    assert c.acl.info(mgmt)["Type"] == "management"
    assert consul.Consul(host="127.0.0.1", port=acl.admin_port, token=mgmt).acl.list()

    with pytest.raises(consul.base.BadRequest):
        c.acl.create(rules='key "x" { policy = "maybe" }')
    with pytest.raises(consul.ACLPermissionDenied):
        consul.Consul(host="127.0.0.1", port=acl.admin_port, token=clone).acl.list()


# --- bootstrap ----------------------------------------------------------------


def test_bootstrap_once_over_http(berthd_factory):
    admin_port = free_port()
    b = berthd_factory(extra_args=["--listen", f"admin=127.0.0.1:{admin_port}"], bootstrap=False)
    url = f"http://127.0.0.1:{admin_port}/v1/acl/bootstrap"
    assert not b.token_path.exists()
    r = requests.put(url, headers=ANON, timeout=10)
    assert r.status_code == 200, r.text
    secret = r.json()["SecretID"]
    assert r.json()["Policies"] == [{"ID": "00000000-0000-0000-0000-000000000001",
                                      "Name": "global-management"}]
    assert b.token_path.read_text().strip() == secret
    assert stat.S_IMODE(os.stat(b.token_path).st_mode) == 0o600
    r = requests.put(url, headers=ANON, timeout=10)
    assert r.status_code == 403 and "ACL bootstrap no longer allowed" in r.text
    r = requests.put(url, headers=tok(secret), timeout=10)
    assert r.status_code == 403
    assert b.token_path.read_text().strip() == secret
    # the token manages everything
    assert b.put("/v1/kv/boot", data=b"v", headers=tok(secret)).status_code == 200


def test_cli_bootstrap_and_management(berthd_factory, run_cli):
    b = berthd_factory(bootstrap=False)
    sock = ["--socket", str(b.socket)]
    rc, out, err = run_cli([*sock, "acl", "bootstrap"])
    assert rc == 0, err
    secret = out.strip()
    assert b.token_path.read_text().strip() == secret
    rc, out, err = run_cli([*sock, "acl", "bootstrap"])
    assert rc != 0 and "ACL bootstrap no longer allowed" in err

    rules = b.workdir / "team.hcl"
    rules.write_text('key_prefix "cli/" { policy = "write" }\n')
    rc, out, err = run_cli([*sock, "acl", "policy", "create", "--name", "cli-team", "--rules", str(rules)])
    assert rc == 0, err
    rc, out, err = run_cli([*sock, "--json", "acl", "token", "create", "--description", "from cli",
                            "--policy", "cli-team"])
    assert rc == 0, err
    token = json.loads(out)
    assert token["Policies"][0]["Name"] == "cli-team"
    assert b.put("/v1/kv/cli/x", data=b"v", headers=tok(token["SecretID"])).status_code == 200
    assert b.put("/v1/kv/other", data=b"v", headers=tok(token["SecretID"])).status_code == 403

    rc, out, err = run_cli([*sock, "acl", "token", "list"])
    assert rc == 0 and token["AccessorID"] in out and "from cli" in out
    rc, out, err = run_cli([*sock, "acl", "policy", "read", "cli-team"])
    assert rc == 0 and 'key_prefix "cli/"' in out
    rc, out, err = run_cli([*sock, "acl", "policy", "create", "--name", "broken", "--rules", "-"],
                           input='key "x" {\n policy = "nope"\n}\n')
    assert rc != 0 and "line 2" in err
    rc, out, err = run_cli([*sock, "acl", "policy", "list"])
    assert rc == 0 and "broken" not in out and "cli-team" in out
    rc, out, err = run_cli([*sock, "acl", "token", "delete", token["AccessorID"]])
    assert rc == 0, err
    rc, out, err = run_cli([*sock, "acl", "token", "read", token["AccessorID"]])
    assert rc != 0 and err.strip()
    rc, out, err = run_cli([*sock, "acl", "policy", "delete", "cli-team"])
    assert rc == 0, err


def test_dev_bootstraps_and_lets_anonymous_read_the_catalog(berthd_factory):
    b = berthd_factory(extra_args=["--dev"])
    assert b.token_path.exists()
    assert stat.S_IMODE(os.stat(b.token_path).st_mode) == 0o600
    secret = b.token_path.read_text().strip()
    assert f"bootstrap token: {secret}" in b.stdout()
    assert "ACLs bootstrapped" in b.stderr() and secret not in b.stderr()
    assert b.token == secret
    b.consul().agent.service.register("web", service_id="web")
    r = b.get("/v1/catalog/services", headers=ANON)
    assert r.status_code == 200 and "web" in r.json()
    assert b.get("/v1/catalog/nodes", headers=ANON).status_code == 200
    assert b.get("/v1/kv/x", headers=ANON).status_code == 403
    assert b.put("/v1/agent/service/register", json={"Name": "x"}, headers=ANON).status_code == 403
    r = b.unix_request("PUT", "/v1/acl/bootstrap")
    assert r.status == 403
    # a restart keeps the token and does not bootstrap again
    b.stop()
    b.start(["--dev"])
    assert b.token_path.read_text().strip() == secret
    # the banner shows the (same) token at every --dev start; the
    # bootstrap itself happened once
    assert f"bootstrap token: {secret}" in b.stdout()
    assert "ACLs bootstrapped" not in b.stderr()
    assert b.put("/v1/kv/again", data=b"v", headers=tok(secret)).status_code == 200


# --- every route ----------------------------------------------------------------


def test_every_route_refuses_the_anonymous_caller(acl):
    routes = acl.unix_request("GET", "/api/routes").json()
    assert len(routes) > 20
    for route in routes:
        assert set(route) >= {"methods", "pattern", "resource", "access", "zone"}
    checked = 0
    for route in routes:
        if route["resource"] == "public":
            assert route["access"] == "none"
            continue
        path = "/".join("x" if seg[:1] in (":", "*") else seg for seg in route["pattern"].split("/"))
        for method in route["methods"].split(", "):
            if method in ("HEAD", "OPTIONS"):
                continue
            r = requests.request(method, acl.admin_url + path, headers=ANON, data=b"{}", timeout=10)
            assert r.status_code in (401, 403), (method, route, r.status_code, r.text[:200])
            checked += 1
    assert checked > 20


def test_marathon_apps_follow_app_prefix(acl):
    import marathon
    from marathon.models import MarathonApp

    make_policy(acl, "apps-a", 'app_prefix "/team-a/" { policy = "write" }')
    secret = make_token(acl, "apps-a")["SecretID"]
    m = marathon.MarathonClient(acl.url, auth_token=secret)
    app = m.create_app("/team-a/web", MarathonApp(cmd="sleep 100", instances=0))
    assert app.id == "/team-a/web"
    with pytest.raises(marathon.exceptions.MarathonHttpError) as e:
        m.create_app("/team-b/web", MarathonApp(cmd="sleep 100", instances=0))
    assert e.value.status_code == 403
    r = acl.get("/v2/apps/team-b/web", headers=tok(acl.token))
    assert r.status_code == 404
    assert acl.request("POST", "/v2/apps", json={"id": "/team-b/web", "cmd": "sleep 100", "instances": 0},
                    headers=tok(acl.token)).status_code == 201
    # lists show only what the token may read; single apps are refused
    assert [a.id for a in m.list_apps()] == ["/team-a/web"]
    assert acl.get("/v2/apps/team-b/web", headers=tok(secret)).status_code == 403


def dig(port, name, qtype="A"):
    p = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=5", name, qtype],
                       capture_output=True, text=True, timeout=30)
    return p.stdout


def test_dev_anonymous_dns_reads_services_default_denies(berthd_factory):
    dns_dev, dns_strict = free_port(), free_port()
    dev = berthd_factory(extra_args=["--dev", "--dns-addr", f"127.0.0.1:{dns_dev}"])
    strict = berthd_factory(extra_args=["--dns-addr", f"127.0.0.1:{dns_strict}"])
    for b in (dev, strict):
        b.consul().agent.service.register("web", service_id="web", address="10.1.2.3", port=80)
    out = dig(dns_dev, "web.service.consul")
    assert "status: NOERROR" in out and "10.1.2.3" in out
    # without --dev the anonymous caller reads nothing: the name does not exist for it
    out = dig(dns_strict, "web.service.consul")
    assert "10.1.2.3" not in out and "NXDOMAIN" in out
