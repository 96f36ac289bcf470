# SPDX-License-Identifier: LGPL-2.1-or-later
"""Which runtime berthd picks (runtime.oci = auto|runc|crun|exec), and the
exec runtime (plain processes) for hosts without a usable OCI runtime."""

import time

import requests


def _start(berthd_factory, tmp_path, oci):
    config = tmp_path / f"berth-{oci}.conf"
    config.write_text(f"[runtime]\noci={oci}\n")
    b = berthd_factory(extra_args=["--config", str(config)])
    info = requests.get(b.url + "/api/runtime", timeout=10).json()
    return b, info


def test_auto_tries_crun_then_runc(rt):
    info = requests.get(rt.url("/api/runtime"), timeout=10).json()
    assert info["Kind"] == "oci"
    assert info["OciRuntime"] in ("crun", "runc")
    if info["OciRuntime"] == "runc":
        # crun came first and the reason it was passed over is given
        assert "crun:" in info["Why"]
    assert f"{info['OciRuntime']} works" in info["Why"]
    assert f"using {info['OciRuntime']} with conmon" in rt.b.stderr()


def test_forced_runc(berthd_factory, tmp_path, oci_tools):
    b, info = _start(berthd_factory, tmp_path, "runc")
    assert info["Kind"] == "oci" and info["OciRuntime"] == "runc"
    assert info["Why"] == "runc works"


def test_forced_crun_falls_back_when_it_cannot_run(berthd_factory, tmp_path, oci_tools):
    b, info = _start(berthd_factory, tmp_path, "crun")
    if info["Kind"] == "oci":
        assert info["OciRuntime"] == "crun"
    else:
        # crun refuses this host (e.g. hybrid cgroups): plain processes, and why
        assert info["Kind"] == "exec" and info["Why"].startswith("crun:")
        assert "using the exec runtime (plain processes): crun:" in b.stderr()


def test_exec_runtime(berthd_factory, tmp_path, oci_tools, registry, make_runtime):
    b, info = _start(berthd_factory, tmp_path, "exec")
    assert info["Kind"] == "exec"
    assert "using the exec runtime" in b.stderr()
    rt = make_runtime(b, registry)
    try:
        ref = registry.ref("app")
        rt.pull(ref)
        # bridge networking needs an OCI runtime
        rt.create(ref, network="bridge", expect=400)
        c = rt.create(ref, network="host", env=["FOO=user"], entrypoint=["/bin/sh", "-c"],
                      cmd=["echo $FOO $KEEP $(pwd) $(id -u); echo oops >&2; exit 5"], user="app")
        rt.start(c["Id"])
        assert rt.wait(c["Id"])["StatusCode"] == 5
        # stdout and stderr are read by two pipes: their order may differ
        assert sorted(rt.logs(c["Id"]).splitlines()) == ["oops", "user 1 /app 1000"]
        info = rt.inspect(c["Id"])
        assert info["Runtime"] == "exec" and info["State"] == "exited"
        # memory limit through the container's own cgroup
        c = rt.create(ref, network="host", memory=16 * 1024 * 1024, entrypoint=["/bin/sh", "-c"],
                      cmd=["x=a; while true; do x=$x$x; done"])
        rt.start(c["Id"])
        w = rt.wait(c["Id"])
        assert w["OOMKilled"] is True and w["StatusCode"] == 137, w
        # stop: TERM to the process group
        c = rt.create(ref, network="host", entrypoint=["/bin/sleep"], cmd=["1000"])
        rt.start(c["Id"])
        assert rt.inspect(c["Id"])["State"] == "running"
        t0 = time.monotonic()
        r = requests.post(rt.url(f"/api/containers/{c['Id']}/stop"), params={"t": "5"}, timeout=30)
        assert r.status_code == 204 and time.monotonic() - t0 < 5
        assert rt.inspect(c["Id"])["ExitCode"] == 143
        # the process outlives a crash of berthd
        c = rt.create(ref, network="host", entrypoint=["/bin/sleep"], cmd=["1000"], name="lasting")
        rt.start(c["Id"])
        b.kill9()
        b.start(["--config", str(tmp_path / "berth-exec.conf")])
        assert rt.inspect("lasting")["State"] == "running"
    finally:
        problems = rt.cleanup()
    assert not problems, problems
