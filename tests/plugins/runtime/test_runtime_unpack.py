# SPDX-License-Identifier: LGPL-2.1-or-later
"""Safe unpacking: malicious layer tarballs are refused and nothing is
written outside the layer directory."""

import hashlib
import io
import json
import os
import tarfile

import pytest
import requests


def _tar(members):
    """members: list of (TarInfo, bytes or None)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def _link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _dir(name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info, None


def _layout(path, layer):
    """An OCI layout with one image made of one uncompressed layer."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        (blobs / d).write_bytes(data)
        return {"digest": f"sha256:{d}", "size": len(data)}

    layer_desc = put(layer)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]}}).encode()
    config_desc = put(config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(config_desc, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(layer_desc, mediaType="application/vnd.oci.image.layer.v1.tar")],
    }).encode()
    manifest_desc = put(manifest)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (path / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [dict(manifest_desc, mediaType="application/vnd.oci.image.manifest.v1+json")]}))
    return path


@pytest.fixture
def plain_berthd(berthd_factory):
    b = berthd_factory()
    r = requests.get(b.url + "/api/runtime", timeout=10)
    assert r.status_code == 200, "the runtime plugin did not load"
    return b


def _import(b, path, tag):
    """Sends @path (a tar, or a directory tarred here) as the import body."""
    if path.is_dir():
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for p in sorted(path.iterdir()):
                t.add(p, arcname=p.name)
        data = buf.getvalue()
    else:
        data = path.read_bytes()
    return requests.post(b.url + "/api/images/import", params={"tag": tag}, data=data, timeout=30)


def _layer_dirs(b):
    d = b.state_dir / "runtime" / "layers"
    return sorted(os.listdir(d)) if d.exists() else []


CASES = {
    "dotdot": lambda out: [_file(f"../../../../../../..{out}/dotdot", b"pwned")],
    "absolute": lambda out: [_file(f"{out}/absolute", b"pwned")],
    "symlink-dir": lambda out: [_link("evil", str(out)), _file("evil/through-symlink", b"pwned")],
    "symlink-relative": lambda out: [_dir("a"), _link("a/up", "../../../../../../../../../.."),
                                     _file(f"a/up{out}/relative", b"pwned")],
    "hardlink-dotdot": lambda out: [_link("hl", f"../../../../../../..{out}/target",
                                          tarfile.LNKTYPE)],
    "hardlink-absolute": lambda out: [_link("hl", f"{out}/target", tarfile.LNKTYPE)],
    "hardlink-through-symlink": lambda out: [_link("d", str(out)),
                                             _link("hl", "d/target", tarfile.LNKTYPE)],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malicious_layer_refused(plain_berthd, tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target").write_text("original")
    before = sorted(os.listdir(outside))
    layer = _tar(CASES[case](outside))
    layout = _layout(tmp_path / "layout", layer)
    r = _import(plain_berthd, layout, f"evil/{case}:1")
    assert r.status_code == 422, r.text
    assert "escape" in r.json()["message"] or "absolute" in r.json()["message"], r.text
    # nothing was written outside, the hardlink target is untouched
    assert sorted(os.listdir(outside)) == before
    assert (outside / "target").read_text() == "original"
    assert os.stat(outside / "target").st_nlink == 1
    # no image, no layer left behind
    assert requests.get(plain_berthd.url + "/api/images", timeout=10).json() == []
    assert _layer_dirs(plain_berthd) == []


def test_malicious_import_archive_refused(plain_berthd, tmp_path):
    """The import archive itself is unpacked as safely as a layer."""
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = tmp_path / "evil.tar"
    archive.write_bytes(_tar([_file("manifest.json", b"[]"),
                              _link("x", str(outside)), _file("x/pwned", b"pwned")]))
    r = _import(plain_berthd, archive, "evil/archive:1")
    assert r.status_code == 422, r.text
    assert os.listdir(outside) == []


def test_benign_layer_kept_intact(plain_berthd, tmp_path):
    """Absolute symlinks inside a layer are fine (they resolve in the
    container); modes, hardlinks and whiteouts come through."""
    info, data = _file("bin/tool", b"#!/bin/sh\n")
    info.mode = 0o4755
    layer = _tar([_dir("bin"), (info, data), _link("bin/alias", "/bin/tool"),
                  _link("bin/hard", "bin/tool", tarfile.LNKTYPE),
                  _dir("etc"), _file("etc/.wh.old", b""), _file("etc/.wh..wh..opq", b"")])
    layout = _layout(tmp_path / "layout", layer)
    r = _import(plain_berthd, layout, "good/layer:1")
    assert r.status_code == 200, r.text
    (layer_dir,) = [d for d in _layer_dirs(plain_berthd)]
    root = plain_berthd.state_dir / "runtime" / "layers" / layer_dir
    assert os.stat(root / "bin" / "tool").st_mode & 0o7777 == 0o4755
    assert os.readlink(root / "bin" / "alias") == "/bin/tool"
    assert os.stat(root / "bin" / "hard").st_ino == os.stat(root / "bin" / "tool").st_ino
    import stat
    assert stat.S_ISCHR(os.lstat(root / "etc" / "old").st_mode)
    assert os.getxattr(root / "etc", "trusted.overlay.opaque") == b"y"
