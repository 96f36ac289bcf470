# SPDX-License-Identifier: LGPL-2.1-or-later
"""ACL enforcement inside the handlers: lists leave out what the caller may
not read (and say so on /v1 with X-Consul-Results-Filtered-By-ACLs), and
names a handler learns from a body (or from the stored row an id points
at) are checked before anything changes.

The authority is the test plugin tests/plugins/testauth, loaded next to
the discovery, scheduler and runtime plugins. Its "team" rule: a token
`team-a` may use keys under `team-a/`, services named `team-a-*`, apps
under `/team-a/`, containers named `team-a-*`, may read any node but write
only nodes named `team-a-*`, and nothing else. Callers without a token are
allowed everything (they play the operator here)."""

import json
import socket
import threading
import time

import consul
import pytest
import requests

marathon = pytest.importorskip("marathon", reason="python3-marathon is not installed")

TESTAUTH = "plugins/testauth/berth-testauth.so"
FILTERED = "X-Consul-Results-Filtered-By-ACLs"
TEAM_A = {"X-Consul-Token": "team-a"}


@pytest.fixture
def guarded(berthd_factory, berth_env, tmp_path):
    testauth = berth_env.build_dir / "tests" / TESTAUTH
    if not testauth.exists():
        pytest.fail(f"{testauth} was not built")
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "berth-testauth.so").symlink_to(testauth)
    for name in ("discovery", "scheduler", "runtime"):
        so = berth_env.build_dir / "plugins" / name / f"berth-{name}.so"
        (plugin_dir / so.name).symlink_to(so)
    b = berthd_factory(extra_args=["--plugin-dir", plugin_dir])
    b.admin = b.consul()
    b.team_a = b.consul(token="team-a")
    return b


def team_a(guarded, method, path, **kw):
    """A request with team a's token (python-consul 0.7 sends none on the
    agent's reads and check updates)."""
    return guarded.request(method, path, headers=TEAM_A, **kw)


def wait_until(fn, timeout=15, what="the condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})", pytrace=False)


# ---- KV ---------------------------------------------------------------------

def test_kv_lists_leave_out_other_teams_keys(guarded):
    for key in ("team-a/x", "team-a/sub/y", "team-b/secret", "shared/z"):
        assert guarded.admin.kv.put(key, "v") is True

    _, entries = guarded.team_a.kv.get("", recurse=True)
    assert sorted(e["Key"] for e in entries) == ["team-a/sub/y", "team-a/x"]
    _, keys = guarded.team_a.kv.get("", keys=True)
    assert keys == ["team-a/sub/y", "team-a/x"]
    _, folders = guarded.team_a.kv.get("", keys=True, separator="/")
    assert folders == ["team-a/"]

    r = guarded.get("/v1/kv/?recurse", headers=TEAM_A)
    assert r.status_code == 200
    assert r.headers.get(FILTERED) == "true"
    # the operator sees everything, and nothing says it was filtered
    r = guarded.get("/v1/kv/?recurse")
    assert len(r.json()) == 4
    assert FILTERED not in r.headers
    # a list of only what the team may read is not marked
    r = guarded.get("/v1/kv/team-a/?keys", headers=TEAM_A)
    assert r.json() == ["team-a/sub/y", "team-a/x"]
    assert FILTERED not in r.headers


def test_kv_writes_outside_the_team_are_refused(guarded):
    assert guarded.team_a.kv.put("team-a/ok", "1") is True
    with pytest.raises(consul.ACLPermissionDenied):
        guarded.team_a.kv.put("team-b/evil", "1")
    assert guarded.admin.kv.get("team-b/evil")[1] is None
    guarded.admin.kv.put("team-b/keep", "1")
    with pytest.raises(consul.ACLPermissionDenied):
        guarded.team_a.kv.delete("team-b/", recurse=True)
    assert guarded.admin.kv.get("team-b/keep")[1]["Value"] == b"1"


def test_txn_is_refused_whole_before_anything_applies(guarded):
    guarded.admin.kv.put("team-b/value", "old")
    ops = [
        {"KV": {"Verb": "set", "Key": "team-a/one", "Value": "MQ=="}},
        {"KV": {"Verb": "set", "Key": "team-b/value", "Value": "bmV3"}},
    ]
    r = guarded.put("/v1/txn", data=json.dumps(ops), headers=TEAM_A)
    assert r.status_code == 403, r.text
    assert "Permission denied" in r.text
    assert guarded.admin.kv.get("team-a/one")[1] is None
    assert guarded.admin.kv.get("team-b/value")[1]["Value"] == b"old"
    # a read of another team's key in a transaction is refused too
    r = guarded.put("/v1/txn", data=json.dumps([{"KV": {"Verb": "get", "Key": "team-b/value"}}]),
                    headers=TEAM_A)
    assert r.status_code == 403
    # the team's own keys go through
    r = guarded.put("/v1/txn", data=json.dumps(ops[:1]), headers=TEAM_A)
    assert r.status_code == 200, r.text
    assert r.json()["Errors"] is None
    assert guarded.admin.kv.get("team-a/one")[1]["Value"] == b"1"
    # a tree read above the team's keys lists only theirs
    r = guarded.put("/v1/txn", data=json.dumps([{"KV": {"Verb": "get-tree", "Key": "team"}}]),
                    headers=TEAM_A)
    assert r.status_code == 200, r.text
    assert [e["KV"]["Key"] for e in r.json()["Results"]] == ["team-a/one"]
    assert r.headers.get(FILTERED) == "true"


# ---- catalog, health, agent -------------------------------------------------

def register_both_teams(guarded):
    a = guarded.admin.agent.service
    assert a.register("team-a-web", service_id="team-a-web-1", port=80,
                      check={"CheckID": "team-a-web-ttl", "Name": "ttl", "TTL": "60s"})
    assert a.register("team-b-db", service_id="team-b-db-1", port=5432,
                      check={"CheckID": "team-b-db-ttl", "Name": "ttl", "TTL": "60s"})


def test_service_lists_are_filtered(guarded):
    register_both_teams(guarded)

    _, services = guarded.team_a.catalog.services()
    assert "team-a-web" in services
    assert "team-b-db" not in services
    _, services = guarded.admin.catalog.services()
    assert "team-b-db" in services
    r = guarded.get("/v1/catalog/services", headers=TEAM_A)
    assert r.headers.get(FILTERED) == "true"

    r = team_a(guarded, "GET", "/v1/agent/services")
    assert set(r.json()) == {"team-a-web-1"}
    assert r.headers.get(FILTERED) == "true"
    checks = team_a(guarded, "GET", "/v1/agent/checks").json()
    assert "team-a-web-ttl" in checks and "team-b-db-ttl" not in checks
    assert set(guarded.admin.agent.services()) == {"team-a-web-1", "team-b-db-1"}

    _, checks = guarded.team_a.health.state("any")
    names = {c["ServiceName"] for c in checks}
    assert "team-b-db" not in names and "team-a-web" in names
    r = guarded.get("/v1/health/state/any", headers=TEAM_A)
    assert r.headers.get(FILTERED) == "true"

    node = guarded.admin.agent.self()["Config"]["NodeName"]
    _, checks = guarded.team_a.health.node(node)
    assert {c["CheckID"] for c in checks} >= {"team-a-web-ttl"}
    assert "team-b-db-ttl" not in {c["CheckID"] for c in checks}
    _, info = guarded.team_a.catalog.node(node)
    assert set(info["Services"]) == {"team-a-web-1"}

    # another team's service by name: refused by the core
    with pytest.raises(consul.ACLPermissionDenied):
        guarded.team_a.health.service("team-b-db")
    _, entries = guarded.team_a.health.service("team-a-web")
    assert [e["Service"]["ID"] for e in entries] == ["team-a-web-1"]
    # by id, the service's name decides
    assert team_a(guarded, "GET", "/v1/agent/service/team-a-web-1").status_code == 200
    assert guarded.admin.agent.service.register("team-b-x", service_id="team-a-x-1", port=1)
    assert team_a(guarded, "GET", "/v1/agent/service/team-a-x-1").status_code == 403


def test_registrations_need_write_on_the_names_in_the_body(guarded):
    agent = guarded.team_a.agent.service
    assert agent.register("team-a-api", service_id="team-a-api-1", port=81)
    with pytest.raises(consul.ACLPermissionDenied):
        agent.register("team-b-api", service_id="team-a-disguised", port=82)
    assert "team-a-disguised" not in guarded.admin.agent.services()

    # a service under the team's id that is another team's service
    assert guarded.admin.agent.service.register("team-b-cache", service_id="team-a-sneaky", port=6379)
    r = team_a(guarded, "PUT", "/v1/agent/service/deregister/team-a-sneaky")
    assert r.status_code == 403, r.text
    assert "team-a-sneaky" in guarded.admin.agent.services()
    # ... nor may the team take it over by registering its own name on that id
    with pytest.raises(consul.ACLPermissionDenied):
        agent.register("team-a-cache", service_id="team-a-sneaky", port=6379)
    assert guarded.admin.agent.services()["team-a-sneaky"]["Service"] == "team-b-cache"
    assert team_a(guarded, "PUT", "/v1/agent/service/deregister/team-a-api-1").status_code == 200
    assert "team-a-api-1" not in guarded.admin.agent.services()
    r = team_a(guarded, "PUT", "/v1/agent/service/maintenance/team-a-sneaky?enable=true")
    assert r.status_code == 403

    # catalog registration: node write on the node, service write on the service
    cat = guarded.team_a.catalog
    assert cat.register("team-a-ext", "10.1.1.1", service={"Service": "team-a-ext-svc", "Port": 80})
    with pytest.raises(consul.ACLPermissionDenied):
        cat.register("db-host", "10.1.1.2", service={"Service": "team-a-db", "Port": 80})
    assert guarded.admin.catalog.node("db-host")[1] is None
    with pytest.raises(consul.ACLPermissionDenied):
        cat.register("team-a-ext", "10.1.1.1", service={"Service": "team-b-ext", "Port": 80})
    assert "team-b-ext" not in guarded.admin.catalog.services()[1]
    # (python-consul 0.7 puts the token of a deregistration in its body)
    node = guarded.admin.agent.self()["Config"]["NodeName"]
    r = team_a(guarded, "PUT", "/v1/catalog/deregister", json={"Node": node, "ServiceID": "team-a-sneaky"})
    assert r.status_code == 403
    assert "team-a-sneaky" in guarded.admin.agent.services()
    r = team_a(guarded, "PUT", "/v1/catalog/deregister", json={"Node": "team-a-ext", "ServiceID": "team-a-ext-svc"})
    assert r.status_code == 200
    assert guarded.admin.catalog.node("team-a-ext")[1]["Services"] == {}
    r = team_a(guarded, "PUT", "/v1/catalog/deregister", json={"Node": "db-host2"})
    assert r.status_code == 403


def test_ttl_checks_need_write_on_their_service(guarded):
    register_both_teams(guarded)
    # a check of team b's service whose id looks like team a's
    assert guarded.admin.agent.check.register("ttl", check_id="team-a-b-ttl", ttl="60s",
                                              service_id="team-b-db-1")

    # ids are not names: the check's service decides, whatever its id
    assert guarded.admin.agent.service.register("team-a-api", service_id="api-7", port=81, ttl="60s")
    assert team_a(guarded, "PUT", "/v1/agent/check/pass/service:api-7").status_code == 200
    assert guarded.admin.agent.checks()["service:api-7"]["Status"] == "passing"
    assert team_a(guarded, "PUT", "/v1/agent/service/deregister/api-7").status_code == 200
    assert "api-7" not in guarded.admin.agent.services()
    r = team_a(guarded, "PUT", "/v1/agent/check/pass/team-b-db-ttl")
    assert r.status_code == 403
    r = team_a(guarded, "PUT", "/v1/agent/check/pass/team-a-web-ttl?note=fine")
    assert r.status_code == 200, r.text
    assert guarded.admin.agent.checks()["team-a-web-ttl"]["Status"] == "passing"
    r = team_a(guarded, "PUT", "/v1/agent/check/pass/team-a-b-ttl")
    assert r.status_code == 403, r.text
    assert guarded.admin.agent.checks()["team-a-b-ttl"]["Status"] == "critical"
    r = team_a(guarded, "PUT", "/v1/agent/check/update/team-a-b-ttl", json={"Status": "passing"})
    assert r.status_code == 403
    r = team_a(guarded, "PUT", "/v1/agent/check/deregister/team-a-b-ttl")
    assert r.status_code == 403
    assert guarded.admin.agent.checks()["team-a-b-ttl"]["Status"] == "critical"
    # a check registered on another team's service
    r = team_a(guarded, "PUT", "/v1/agent/check/register",
               json={"Name": "x", "CheckID": "team-a-more", "TTL": "10s", "ServiceID": "team-b-db-1"})
    assert r.status_code == 403
    assert "team-a-more" not in guarded.admin.agent.checks()
    # node-level checks need node write
    r = team_a(guarded, "PUT", "/v1/agent/check/register",
               json={"Name": "node-ttl", "CheckID": "team-a-node", "TTL": "10s"})
    assert r.status_code == 403
    assert "team-a-node" not in guarded.admin.agent.checks()
    r = team_a(guarded, "PUT", "/v1/agent/check/register",
               json={"Name": "mine", "CheckID": "team-a-mine", "TTL": "10s", "ServiceID": "team-a-web-1"})
    assert r.status_code == 200, r.text
    assert guarded.admin.agent.checks()["team-a-mine"]["ServiceName"] == "team-a-web"


def test_a_registration_cannot_claim_another_teams_app(guarded):
    r = team_a(guarded, "PUT", "/v1/agent/service/register",
               json={"Name": "team-a-fake", "ID": "team-a-fake-1", "Port": 80,
                     "Meta": {"berth-app": "/team-b/web"}})
    assert r.status_code == 403, r.text
    assert "team-a-fake-1" not in guarded.admin.agent.services()
    r = team_a(guarded, "PUT", "/v1/catalog/register",
               json={"Node": "team-a-n", "Address": "10.0.0.9",
                     "Service": {"Service": "team-a-fake", "Meta": {"berth-app": "team-b/web"}}})
    assert r.status_code == 403, r.text
    assert guarded.admin.catalog.node("team-a-n")[1] is None
    r = team_a(guarded, "PUT", "/v1/agent/service/register",
               json={"Name": "team-a-real", "ID": "team-a-real-1", "Port": 80,
                     "Meta": {"berth-app": "/team-a/web"}})
    assert r.status_code == 200, r.text
    assert "team-a-real-1" in guarded.admin.agent.services()


# ---- scheduler ----------------------------------------------------------------

def app(app_id, **kw):
    body = dict(id=app_id, cmd="exec sleep 600", cpus=0.01, mem=16, instances=1,
                port_definitions=[marathon.models.app.PortDefinition(port=0)])
    body.update(kw)
    return marathon.MarathonApp(**body)


@pytest.fixture
def teams(guarded):
    admin = marathon.MarathonClient(guarded.url, timeout=10)
    team_a = marathon.MarathonClient(guarded.url, timeout=10, auth_token="team-a")
    admin.create_app("/team-b/web", app("/team-b/web"))
    team_a.create_app("/team-a/web", app("/team-a/web"))

    def both_running():
        tasks = admin.list_tasks()
        return len([t for t in tasks if t.state == "TASK_RUNNING"]) == 2
    wait_until(both_running, what="a running task of each team")
    return admin, team_a


def test_marathon_lists_show_only_the_teams_apps(guarded, teams):
    admin, team_a = teams
    assert [a.id for a in team_a.list_apps()] == ["/team-a/web"]
    assert sorted(a.id for a in admin.list_apps()) == ["/team-a/web", "/team-b/web"]
    assert {t.app_id for t in team_a.list_tasks()} == {"/team-a/web"}
    assert {t.app_id for t in admin.list_tasks()} == {"/team-a/web", "/team-b/web"}
    group = team_a.get_group("/")
    assert [g.id for g in group.groups] == ["/team-a"]
    r = requests.get(guarded.url + "/v2/groups/team-b", headers={"Authorization": "token=team-a"})
    assert r.status_code in (403, 404)
    # an app that cannot start stays queued and its deployment open
    admin.create_app("/team-b/broken", app("/team-b/broken", cmd="exit 1", backoff_seconds=30))
    wait_until(lambda: [q.app.id for q in admin.list_queue()] == ["/team-b/broken"], what="the queue")
    assert [d.affected_apps for d in admin.list_deployments()] == [["/team-b/broken"]]
    assert team_a.list_queue() == []
    assert team_a.list_deployments() == []
    assert team_a.get_app("/team-a/web").id == "/team-a/web"
    with pytest.raises(marathon.exceptions.MarathonHttpError) as e:
        team_a.get_app("/team-b/web")
    assert e.value.status_code == 403


def test_marathon_writes_need_write_on_every_app(guarded, teams):
    admin, team_a = teams
    with pytest.raises(marathon.exceptions.MarathonHttpError) as e:
        team_a.create_app("/team-b/evil", app("/team-b/evil"))
    assert e.value.status_code == 403
    with pytest.raises(marathon.exceptions.NotFoundError):
        admin.get_app("/team-b/evil")

    for call in (lambda: team_a.restart_app("/team-b/web"),
                 lambda: team_a.scale_app("/team-b/web", instances=0),
                 lambda: team_a.kill_tasks("/team-b/web"),
                 lambda: team_a.delete_app("/team-b/web")):
        with pytest.raises(marathon.exceptions.MarathonHttpError) as e:
            call()
        assert e.value.status_code == 403
    assert admin.get_app("/team-b/web").instances == 1

    b_task = [t for t in admin.list_tasks() if t.app_id == "/team-b/web"][0]
    with pytest.raises(marathon.exceptions.MarathonHttpError) as e:
        team_a.kill_given_tasks([b_task.id])
    assert e.value.status_code == 403
    assert b_task.id in [t.id for t in admin.list_tasks(app_id="/team-b/web")]

    # a group write naming another team's app is refused whole
    group = {"id": "/team-a", "apps": [{"id": "/team-a/two", "cmd": "exec sleep 600", "cpus": 0.01,
                                         "mem": 16, "instances": 0},
                                        {"id": "/team-b/sneak", "cmd": "exec sleep 600", "cpus": 0.01,
                                         "mem": 16, "instances": 0}]}
    r = requests.post(guarded.url + "/v2/groups", json=group, headers={"Authorization": "token=team-a"},
                      timeout=10)
    assert r.status_code == 403, r.text
    assert sorted(a.id for a in admin.list_apps()) == ["/team-a/web", "/team-b/web"]
    # the root group (every app) is not the team's to delete
    r = requests.delete(guarded.url + "/v2/groups/team-b", headers={"Authorization": "token=team-a"},
                        timeout=10)
    assert r.status_code == 403
    assert len(admin.list_apps()) == 2

    # the team's own writes go through
    team_a.scale_app("/team-a/web", instances=0)
    wait_until(lambda: admin.get_app("/team-a/web").tasks_running == 0, what="team a scaled down")


def test_marathon_events_show_only_readable_apps(guarded, teams):
    admin, team_a = teams
    seen = []
    r = requests.get(guarded.url + "/v2/events", stream=True, timeout=30,
                     headers={"Authorization": "token=team-a", "Accept": "text/event-stream"})
    assert r.status_code == 200

    def read():
        try:
            for line in r.iter_lines():
                if line.startswith(b"data: "):
                    seen.append(json.loads(line[6:]))
        except Exception:  # the stream is closed at the end of the test
            pass
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)
    admin.scale_app("/team-b/web", instances=2)
    team_a.scale_app("/team-a/web", instances=2)
    wait_until(lambda: any(e.get("appId") == "/team-a/web" and e.get("taskStatus") == "TASK_RUNNING"
                           for e in seen), what="team a's new task in the events")
    wait_until(lambda: len([t for t in admin.list_tasks(app_id="/team-b/web")
                            if t.state == "TASK_RUNNING"]) == 2, what="team b's second task")
    time.sleep(0.5)
    # end the stream from our side at once (closing the response would wait
    # for the reader's blocked read to time out)
    r.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
    reader.join(5)
    r.close()
    app_ids = {e.get("appId") for e in seen if "appId" in e}
    plans = [s["actions"][0]["app"] for e in seen if "plan" in e for s in e["plan"]["steps"]]
    assert "/team-a/web" in app_ids
    assert not any("team-b" in (a or "") for a in app_ids | set(plans)), seen


def test_automatic_registration_still_runs_for_team_apps(guarded, teams):
    """Registration of tasks as services is discovery's own work (an
    internal caller): the team's app becomes a service the team may read."""
    def registered():
        _, entries = guarded.admin.catalog.service("team-a-web")
        return entries
    entries = wait_until(registered, what="the task of /team-a/web registered")
    assert entries[0]["ServiceMeta"]["berth-app"] == "/team-a/web"
    _, services = guarded.team_a.catalog.services()
    assert "team-a-web" in services and "team-b-web" not in services
    # the team cannot pass a service off as the other team's task
    b_task = wait_until(lambda: guarded.admin.catalog.service("team-b-web")[1], what="team b's service")
    task_id = b_task[0]["ServiceMeta"]["berth-task"]
    r = team_a(guarded, "PUT", "/v1/agent/service/register",
               json={"Name": "team-a-fake", "ID": "team-a-fake-1", "Port": 1, "Meta": {"berth-task": task_id}})
    assert r.status_code == 403, r.text
    assert "team-a-fake-1" not in guarded.admin.agent.services()


# ---- with the security plugin's ACL engine ------------------------------------

TEAM_A_RULES = """
key_prefix "team-a/" { policy = "write" }
service_prefix "team-a-" { policy = "write" }
node_prefix "" { policy = "read" }
app_prefix "/team-a/" { policy = "write" }
"""


@pytest.fixture
def acl_daemon(berthd_factory, berth_env):
    """berthd with its own plugins (the security plugin's ACLs, default
    deny) and a token of team a's made through the ACL API."""
    admin_port = berth_env.free_port()
    b = berthd_factory(extra_args=["--listen", f"admin=127.0.0.1:{admin_port}"])
    if not b.token:
        pytest.skip("no security plugin in this build")
    admin = f"http://127.0.0.1:{admin_port}"
    headers = {"X-Consul-Token": b.token}
    r = requests.put(admin + "/v1/acl/policy", headers=headers, timeout=10,
                     json={"Name": "team-a", "Rules": TEAM_A_RULES})
    assert r.status_code == 200, r.text
    r = requests.put(admin + "/v1/acl/token", headers=headers, timeout=10,
                     json={"Description": "team a", "Policies": [{"Name": "team-a"}]})
    assert r.status_code == 200, r.text
    b.team_a_token = r.json()["SecretID"]
    return b


def test_with_the_acl_engine(acl_daemon):
    b = acl_daemon
    team = {"X-Consul-Token": b.team_a_token}
    c = b.consul()
    for key in ("team-a/x", "team-b/y"):
        assert c.kv.put(key, "v") is True
    # a recursive read of everything answers the team's keys, marked filtered
    r = b.get("/v1/kv/?recurse", headers=team)
    assert r.status_code == 200, r.text
    assert [e["Key"] for e in r.json()] == ["team-a/x"]
    assert r.headers.get(FILTERED) == "true"
    assert b.get("/v1/kv/team-b/y", headers=team).status_code == 403

    # the team registers, heartbeats and deregisters its service by id
    r = b.put("/v1/agent/service/register", headers=team,
              json={"Name": "team-a-web", "ID": "web-1", "Check": {"TTL": "60s"}})
    assert r.status_code == 200, r.text
    assert b.put("/v1/agent/check/pass/service:web-1", headers=team).status_code == 200
    assert c.agent.checks()["service:web-1"]["Status"] == "passing"
    r = b.put("/v1/agent/service/register", headers=team, json={"Name": "team-b-web", "ID": "web-2"})
    assert r.status_code == 403
    assert c.agent.service.register("team-b-db", service_id="db-1", port=1, ttl="60s")
    assert b.put("/v1/agent/check/pass/service:db-1", headers=team).status_code == 403
    assert b.put("/v1/agent/service/deregister/db-1", headers=team).status_code == 403
    assert set(b.get("/v1/agent/services", headers=team).json()) == {"web-1"}
    assert b.put("/v1/agent/service/deregister/web-1", headers=team).status_code == 200
    assert set(c.agent.services()) == {"db-1"}

    # Marathon: the team's apps only
    team_a = marathon.MarathonClient(b.url, timeout=10, auth_token=b.team_a_token)
    admin = marathon.MarathonClient(b.url, timeout=10, auth_token=b.token)
    admin.create_app("/team-b/web", app("/team-b/web", instances=0))
    team_a.create_app("/team-a/web", app("/team-a/web", instances=0))
    with pytest.raises(marathon.exceptions.MarathonHttpError) as e:
        team_a.create_app("/team-b/evil", app("/team-b/evil", instances=0))
    assert e.value.status_code == 403
    assert [a.id for a in team_a.list_apps()] == ["/team-a/web"]
    assert sorted(a.id for a in admin.list_apps()) == ["/team-a/web", "/team-b/web"]
    # its group, by path, read and written
    assert [a.id for a in team_a.get_group("/team-a").apps] == ["/team-a/web"]
    r = requests.put(b.url + "/v2/groups/team-a", json={"scaleBy": 2}, timeout=10,
                     headers={"Authorization": "token=" + b.team_a_token})
    assert r.status_code == 200, r.text
    r = requests.delete(b.url + "/v2/groups/team-b", timeout=10,
                        headers={"Authorization": "token=" + b.team_a_token})
    assert r.status_code == 403, r.text
    assert sorted(a.id for a in admin.list_apps()) == ["/team-a/web", "/team-b/web"]
