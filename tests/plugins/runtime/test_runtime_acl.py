# SPDX-License-Identifier: LGPL-2.1-or-later
"""ACL enforcement in the runtime's API: container lists, logs and images
show a team only its own, and creations, pulls and operations on another
team's container are refused before anything is made.

The authority is the test plugin tests/plugins/testauth (its "team" rule:
token `team-a` may use containers named `team-a-*`, read any image but
another team's — a path component `team-b` — and write only images with a
path component `team-a`). Callers without a token play the operator."""

import json

import pytest
import requests

TESTAUTH = "plugins/testauth/berth-testauth.so"
TEAM_A = {"X-Consul-Token": "team-a"}


@pytest.fixture
def guarded_rt(berthd_factory, berth_env, oci_tools, registry, make_runtime, tmp_path):
    testauth = berth_env.build_dir / "tests" / TESTAUTH
    if not testauth.exists():
        pytest.fail(f"{testauth} was not built")
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "berth-testauth.so").symlink_to(testauth)
    for name in ("discovery", "runtime"):
        so = berth_env.build_dir / "plugins" / name / f"berth-{name}.so"
        (plugin_dir / so.name).symlink_to(so)
    config = tmp_path / "rt-berth.conf"
    config.write_text("[berthd]\nmax_body_bytes=268435456\n")
    b = berthd_factory(extra_args=["--plugin-dir", plugin_dir, "--config", str(config)])
    info = requests.get(b.url + "/api/runtime", timeout=10).json()
    if info["Kind"] != "oci":
        pytest.skip(f"no usable OCI runtime here: {info['Why']}")
    rt = make_runtime(b, registry)
    yield rt
    problems = rt.cleanup()
    assert not problems, problems


def team_a(rt, method, path, **kw):
    return requests.request(method, rt.url(path), headers=TEAM_A, timeout=60 * rt.b.TIME_SCALE, **kw)


def test_containers_of_another_team(guarded_rt):
    rt = guarded_rt
    ref = rt.registry.ref("base")
    # pulling is writing an image: not the team's (no `team-a` in the name)
    r = team_a(rt, "POST", "/api/images/pull", params={"ref": ref})
    assert r.status_code == 403, r.text
    assert requests.get(rt.url("/api/images"), timeout=10).json() == []
    rt.pull(ref)

    spec = {"image": ref, "network": "none", "cmd": ["/bin/echo", "hello from a"]}
    r = team_a(rt, "POST", "/api/containers", json={**spec, "name": "team-a-one"})
    assert r.status_code == 201, r.text
    # by id or id prefix, the container's name decides
    mine = r.json()["Id"]
    assert team_a(rt, "GET", f"/api/containers/{mine[:12]}").json()["Name"] == "team-a-one"
    for name in ("team-b-one", None):
        body = dict(spec, name=name) if name else spec
        r = team_a(rt, "POST", "/api/containers", json=body)
        assert r.status_code == 403, r.text
    theirs = rt.create(ref, name="team-b-two", cmd=["/bin/echo", "hello from b"])["Id"]
    names = sorted(c["Name"] for c in requests.get(rt.url("/api/containers?all=1"), timeout=10).json())
    assert names == ["team-a-one", "team-b-two"]

    r = team_a(rt, "GET", "/api/containers", params={"all": "1"})
    assert [c["Name"] for c in r.json()] == ["team-a-one"]
    assert r.headers.get("X-Consul-Results-Filtered-By-ACLs") == "true"

    for method, path in (("GET", "/api/containers/team-b-two"),
                         ("GET", f"/api/containers/{theirs}"),
                         ("POST", "/api/containers/team-b-two/start"),
                         ("POST", f"/api/containers/{theirs}/kill"),
                         ("GET", "/api/containers/team-b-two/logs"),
                         ("DELETE", "/api/containers/team-b-two")):
        r = team_a(rt, method, path)
        assert r.status_code == 403, (method, path, r.text)
    assert rt.inspect(theirs)["State"] == "created"

    # both run; the team's log lines are its container's only
    assert team_a(rt, "POST", "/api/containers/team-a-one/start").status_code in (204, 304)
    rt.start(theirs)
    assert team_a(rt, "POST", "/api/containers/team-a-one/wait").json()["StatusCode"] == 0
    rt.wait(theirs)
    assert "hello from a" in team_a(rt, "GET", "/api/containers/team-a-one/logs").text
    r = team_a(rt, "GET", "/api/logs")
    lines = [json.loads(line) for line in r.text.splitlines() if line]
    assert any("hello from a" in json.dumps(line) for line in lines), r.text
    assert "hello from b" not in r.text
    r = requests.get(rt.url("/api/logs"), timeout=30)
    assert "hello from b" in r.text and "hello from a" in r.text
    assert team_a(rt, "DELETE", "/api/containers/team-a-one").status_code == 204


def test_images_of_another_team(guarded_rt):
    rt = guarded_rt
    ref = rt.registry.ref("base")
    rt.pull(ref)
    tar = requests.get(rt.url("/api/images/export"), params={"ref": ref}, timeout=60).content
    r = requests.post(rt.url("/api/images/import"), params={"tag": "localhost/team-b/secret:1"}, data=tar,
                      timeout=60)
    assert r.status_code == 200, r.text
    # a team may import under its own name only
    r = team_a(rt, "POST", "/api/images/import", params={"tag": "localhost/team-b/mine:1"}, data=tar)
    assert r.status_code == 403, r.text
    r = team_a(rt, "POST", "/api/images/import", data=tar)
    assert r.status_code == 403, r.text
    r = team_a(rt, "POST", "/api/images/import", params={"tag": "localhost/team-a/mine:1"}, data=tar)
    assert r.status_code == 200, r.text

    every = {t for i in requests.get(rt.url("/api/images"), timeout=10).json() for t in i["RepoTags"]}
    assert "localhost/team-b/secret:1" in every
    # one image under three names: the team sees the names it may read
    r = team_a(rt, "GET", "/api/images")
    seen = {t for i in r.json() for t in i["RepoTags"]}
    assert "localhost/team-a/mine:1" in seen
    assert "localhost/team-b/secret:1" not in seen
    assert r.headers.get("X-Consul-Results-Filtered-By-ACLs") == "true"
    assert team_a(rt, "GET", "/api/images/export", params={"ref": "localhost/team-b/secret:1"}).status_code == 403
    assert team_a(rt, "GET", "/api/images/localhost/team-b/secret:1").status_code == 403
    # by id, the image shows the names the team may read
    image_id = r.json()[0]["Id"]
    r = team_a(rt, "GET", f"/api/images/{image_id}")
    assert r.status_code == 200, r.text
    assert "localhost/team-a/mine:1" in r.json()["RepoTags"]
    assert "localhost/team-b/secret:1" not in r.json()["RepoTags"]
    assert "localhost/team-b/secret:1" in requests.get(rt.url(f"/api/images/{image_id}"), timeout=10).json()["RepoTags"]
    assert team_a(rt, "DELETE", "/api/images/localhost/team-b/secret:1").status_code == 403
    assert team_a(rt, "POST", "/api/images/prune").status_code == 403
    # a container of another team's image is refused, of a shared one made
    r = team_a(rt, "POST", "/api/containers",
               json={"name": "team-a-x", "image": "localhost/team-b/secret:1", "network": "none"})
    assert r.status_code == 403, r.text
    r = team_a(rt, "POST", "/api/containers",
               json={"name": "team-a-x", "image": "localhost/team-a/mine:1", "network": "none"})
    assert r.status_code == 201, r.text
