# SPDX-License-Identifier: LGPL-2.1-or-later
"""Images: pull from a real registry, layer sharing, whiteouts, removal,
prune, import/export."""

import io
import json
import os
import subprocess
import tarfile

import requests


def images(rt):
    r = requests.get(rt.url("/api/images"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def disk(rt):
    r = requests.get(rt.url("/api/images/_disk"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_pull_streams_progress_and_lists(rt, test_images):
    lines = rt.pull(rt.registry.ref("app"))
    statuses = {line.get("status") for line in lines}
    assert "Pulled" in statuses
    assert any(line.get("status") in ("Download complete", "Downloading") for line in lines), lines
    assert lines[-1]["id"] == test_images.ids["app"]
    listed = images(rt)
    assert len(listed) == 1
    assert listed[0]["Id"] == test_images.ids["app"]
    assert listed[0]["RepoTags"] == [rt.registry.ref("app") + ":latest"]
    assert len(listed[0]["Layers"]) == 2
    # inspect by tag and by id prefix
    r = requests.get(rt.url("/api/images/" + rt.registry.ref("app")), timeout=10)
    assert r.status_code == 200 and r.json()["Config"]["config"]["Entrypoint"] == ["/bin/echo"]
    r = requests.get(rt.url("/api/images/" + test_images.ids["app"][7:19]), timeout=10)
    assert r.status_code == 200
    # a second pull downloads nothing
    again = rt.pull(rt.registry.ref("app"))
    assert not any(line.get("status") == "Downloading" for line in again)


def test_layers_shared_and_refcounted(rt, test_images):
    rt.pull(rt.registry.ref("base"))
    one = disk(rt)
    rt.pull(rt.registry.ref("app"))
    two = disk(rt)
    assert two["Images"] == 2 and two["Layers"] == 2
    # the base layer is stored once: disk use of both < the sum of their sizes
    assert two["LayersSize"] < two["ImagesSize"]
    assert two["LayersSize"] - one["LayersSize"] < one["LayersSize"]
    layer_dirs = os.listdir(rt.b.state_dir / "runtime" / "layers")
    assert len([d for d in layer_dirs if not d.startswith(".")]) == 2

    # removing app keeps the base layer, which base still uses
    r = requests.delete(rt.url("/api/images/" + rt.registry.ref("app")), timeout=10)
    assert r.status_code == 200, r.text
    assert test_images.ids["app"] in r.json()["Deleted"]
    after = disk(rt)
    assert after["Images"] == 1 and after["Layers"] == 1
    layer_dirs = os.listdir(rt.b.state_dir / "runtime" / "layers")
    assert len([d for d in layer_dirs if not d.startswith(".")]) == 1
    r = requests.delete(rt.url("/api/images/" + rt.registry.ref("app")), timeout=10)
    assert r.status_code == 404


def test_whiteout_becomes_overlay_whiteout(rt, test_images):
    rt.pull(rt.registry.ref("wh"))
    listed = images(rt)
    top = listed[0]["Layers"][-1]
    layer = rt.b.state_dir / "runtime" / "layers" / top[7:]
    st = os.lstat(layer / "app" / "gone.txt")
    import stat
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def test_multi_arch_index_picks_host_platform(rt, test_images):
    lines = rt.pull(rt.registry.ref("multi"))
    # the amd64 entry of the index is the app image
    assert lines[-1]["id"] == test_images.ids["app"]


def test_pull_with_bearer_token(rt, token_registry, test_images):
    before = token_registry.handler.tokens_issued
    lines = rt.pull(token_registry.ref("app"))
    assert lines[-1]["id"] == test_images.ids["app"]
    assert token_registry.handler.tokens_issued > before


def test_pull_errors(rt):
    lines = rt.pull(rt.registry.ref("nonexistent"), expect_ok=False)
    assert "error" in lines[-1] and "not found" in lines[-1]["error"]
    r = requests.post(rt.url("/api/images/pull"), params={"ref": "UPPER/Case"}, timeout=10)
    lines = [json.loads(x) for x in r.text.splitlines() if x]
    assert "error" in lines[-1]
    r = requests.post(rt.url("/api/images/pull"), timeout=10)
    assert r.status_code == 400


def _tar_dir(path):
    """A tar of the directory @path's contents, as bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for p in sorted(path.iterdir()):
            t.add(p, arcname=p.name)
    return buf.getvalue()


def import_body(rt, data, **params):
    return requests.post(rt.url("/api/images/import"), params=params, data=data,
                         headers={"Content-Type": "application/octet-stream"}, timeout=60)


def test_export_import_round_trip(rt, test_images, tmp_path):
    ref = rt.registry.ref("app")
    rt.pull(ref)
    r = requests.post(rt.url("/api/images/export"), params={"ref": ref}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/x-tar"
    out = tmp_path / "app.tar"
    out.write_bytes(r.content)
    with tarfile.open(out) as t:
        names = t.getnames()
    assert "index.json" in names and "oci-layout" in names and "manifest.json" in names
    # GET answers the same archive
    r = requests.get(rt.url("/api/images/export"), params={"ref": ref}, timeout=30)
    assert r.status_code == 200 and r.content == out.read_bytes()
    # nothing is left in the runtime's tmp directory
    assert [n for n in os.listdir(rt.b.state_dir / "runtime" / "tmp") if n.startswith("image-")] == []
    r = requests.delete(rt.url("/api/images/" + ref), timeout=10)
    assert r.status_code == 200
    assert images(rt) == []
    r = import_body(rt, out.read_bytes())
    assert r.status_code == 200, r.text
    assert r.json()[0]["Id"] == test_images.ids["app"]
    assert images(rt)[0]["RepoTags"] == [ref + ":latest"]
    assert [n for n in os.listdir(rt.b.state_dir / "runtime" / "tmp") if n.startswith("image-")] == []
    # the OCI layout the tests built imports too (as a tar), under a new tag
    r = import_body(rt, _tar_dir(test_images.layout), tag="local/imported:v1")
    assert r.status_code == 200, r.text
    tags = {t for i in images(rt) for t in i["RepoTags"]}
    assert "docker.io/local/imported:v1" in tags
    # an empty body or a body that is no image archive
    assert import_body(rt, b"").status_code == 400
    r = import_body(rt, b"not a tar at all" * 100)
    assert r.status_code in (400, 422), r.text
    r = requests.post(rt.url("/api/images/export"), params={"ref": "no/such:image"}, timeout=30)
    assert r.status_code == 404, r.text


def test_import_export_never_touch_host_paths(rt, test_images, tmp_path):
    """?path= is refused: berthd neither reads nor writes a file the client
    names."""
    ref = rt.registry.ref("base")
    rt.pull(ref)
    r = requests.post(rt.url("/api/images/export"), params={"ref": ref}, timeout=30)
    assert r.status_code == 200
    archive = tmp_path / "base.tar"
    archive.write_bytes(r.content)
    requests.delete(rt.url("/api/images/" + ref), timeout=10)
    assert images(rt) == []

    # import with a path: refused, the host file is not read
    before = os.stat(archive).st_atime_ns
    r = requests.post(rt.url("/api/images/import"), params={"path": str(archive)}, timeout=30)
    assert r.status_code == 400, r.text
    assert "path" in r.json()["message"]
    assert images(rt) == []
    assert os.stat(archive).st_atime_ns == before
    r = requests.post(rt.url("/api/images/import"), params={"path": str(test_images.layout)}, timeout=30)
    assert r.status_code == 400 and images(rt) == []

    # export with a path: refused, nothing written there
    rt.pull(ref)
    out = tmp_path / "written-by-berthd.tar"
    for method in (requests.post, requests.get):
        r = method(rt.url("/api/images/export"), params={"ref": ref, "path": str(out)}, timeout=30)
        assert r.status_code == 400, r.text
        assert not out.exists()


def test_docker_save_import(rt, test_images, tmp_path):
    """A `docker save`-style archive: manifest.json, config, layer tars."""
    src = test_images.layout
    index = json.loads((src / "index.json").read_text())
    entry = next(m for m in index["manifests"]
                 if m["annotations"]["org.opencontainers.image.ref.name"] == "base")
    manifest = json.loads((src / "blobs/sha256" / entry["digest"][7:]).read_text())
    save = tmp_path / "save"
    save.mkdir()
    import gzip
    import shutil
    config_name = manifest["config"]["digest"][7:] + ".json"
    shutil.copy(src / "blobs/sha256" / manifest["config"]["digest"][7:], save / config_name)
    layers = []
    for i, layer in enumerate(manifest["layers"]):
        with gzip.open(src / "blobs/sha256" / layer["digest"][7:]) as g:
            (save / f"layer{i}.tar").write_bytes(g.read())
        layers.append(f"layer{i}.tar")
    (save / "manifest.json").write_text(json.dumps(
        [{"Config": config_name, "RepoTags": ["saved/base:1"], "Layers": layers}]))
    r = import_body(rt, _tar_dir(save))
    assert r.status_code == 200, r.text
    assert r.json()[0]["Id"] == test_images.ids["base"]
    assert r.json()[0]["RepoTags"] == ["docker.io/saved/base:1"]


def test_prune(rt, test_images):
    rt.pull(rt.registry.ref("base"))
    rt.pull(rt.registry.ref("app"))
    r = requests.post(rt.url("/api/images/prune"), timeout=10)
    assert r.status_code == 200 and r.json()["ImagesDeleted"] == []
    r = requests.post(rt.url("/api/images/prune"), params={"all": "1"}, timeout=10)
    assert r.status_code == 200, r.text
    assert sorted(r.json()["ImagesDeleted"]) == sorted([test_images.ids["base"], test_images.ids["app"]])
    assert images(rt) == []
    assert disk(rt)["Layers"] == 0
    # a layer directory no record knows of (left by a crash) goes too
    stray = rt.b.state_dir / "runtime" / "layers" / ("ab" * 32)
    (stray / "etc").mkdir(parents=True)
    r = requests.post(rt.url("/api/images/prune"), timeout=10)
    assert "sha256:" + "ab" * 32 in r.json()["LayersDeleted"]
    assert not stray.exists()


def test_pull_resumes_half_done_blob(rt, token_registry, test_images):
    """A blob left half-downloaded is resumed with a Range request, not
    fetched again from the start."""
    layout = test_images.layout
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"]
                 if m["annotations"]["org.opencontainers.image.ref.name"] == "app")
    manifest = json.loads((layout / "blobs/sha256" / entry["digest"][7:]).read_text())
    layer = manifest["layers"][0]["digest"][7:]   # the big busybox layer
    data = (layout / "blobs/sha256" / layer).read_bytes()
    half = len(data) // 2
    incoming = rt.b.state_dir / "runtime" / "blobs" / "incoming"
    (incoming / f"{layer}.partial").write_bytes(data[:half])
    token_registry.handler.ranges.clear()
    lines = rt.pull(token_registry.ref("app"))
    assert lines[-1]["id"] == test_images.ids["app"]
    assert any(layer in path and rng == f"bytes={half}-"
               for path, rng in token_registry.handler.ranges), token_registry.handler.ranges
    assert any(line.get("status") == "Resuming" for line in lines)
    blob = rt.b.state_dir / "runtime" / "blobs" / "sha256" / layer
    assert blob.read_bytes() == data
    assert not (incoming / f"{layer}.partial").exists()


def test_pull_with_basic_auth_from_config(berthd_factory, basic_registry, test_images, tmp_path,
                                          make_runtime):
    config = tmp_path / "berth.conf"
    config.write_text(f'[registry "{basic_registry.host}"]\nusername=berth\npassword=s3cret\n')
    with_auth = make_runtime(berthd_factory(extra_args=["--config", str(config)]), basic_registry)
    lines = with_auth.pull(basic_registry.ref("base"))
    assert lines[-1]["id"] == test_images.ids["base"]
    without = make_runtime(berthd_factory(), basic_registry)
    lines = without.pull(basic_registry.ref("base"), expect_ok=False)
    assert "user name and password" in lines[-1]["error"]


def test_concurrent_pulls_share_downloads(rt, test_images):
    """Two pulls at once of images sharing a layer both succeed."""
    import threading
    results = {}

    def pull(name):
        results[name] = rt.pull(rt.registry.ref(name))[-1]

    threads = [threading.Thread(target=pull, args=(n,)) for n in ("app", "wh", "base")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {n: r["id"] for n, r in results.items()} == {
        n: test_images.ids[n] for n in ("app", "wh", "base")}
    assert disk(rt)["Layers"] == 3
