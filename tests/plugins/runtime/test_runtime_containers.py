# SPDX-License-Identifier: LGPL-2.1-or-later
"""Containers with conmon + runc, for real: run, exit codes, command
precedence, limits, logs, stop, and berthd crashing under them."""

import signal
import time

import requests


def test_run_exit_code_and_logs(rt):
    rt.pull(rt.registry.ref("base"))
    cid = rt.run(rt.registry.ref("base"), cmd=["sh", "-c", "echo out; echo err >&2; exit 3"])
    w = rt.wait(cid)
    assert w["StatusCode"] == 3 and w["OOMKilled"] is False
    info = rt.inspect(cid)
    assert info["State"] == "exited" and info["ExitCode"] == 3 and info["Running"] is False
    assert info["Runtime"] == "runc"
    logs = rt.logs(cid)
    assert logs.splitlines() == ["out", "err"]
    assert rt.logs(cid, tail="1").splitlines() == ["err"]
    stamped = rt.logs(cid, timestamps="1").splitlines()
    assert stamped[0].endswith(" out") and stamped[0][:4].isdigit()
    # listed only with ?all
    assert cid not in [c["Id"] for c in requests.get(rt.url("/api/containers"), timeout=10).json()]
    assert cid in [c["Id"] for c in requests.get(rt.url("/api/containers?all=1"), timeout=10).json()]
    r = rt.remove(cid, force=False)
    assert r.status_code == 204, r.text
    assert requests.get(rt.url(f"/api/containers/{cid}"), timeout=10).status_code == 404
    assert not (rt.b.state_dir / "runtime" / "containers" / cid).exists()


def test_command_env_precedence(rt):
    ref = rt.registry.ref("app")
    rt.pull(ref)
    # image entrypoint /bin/echo + image cmd, env and workdir
    cid = rt.run(ref, env=["FOO=user", "BAR=2"])
    assert rt.wait(cid)["StatusCode"] == 0
    assert rt.logs(cid).strip() == "from-image-cmd"
    # a cmd replaces the image's cmd, keeps its entrypoint
    cid = rt.run(ref, cmd=["given"])
    rt.wait(cid)
    assert rt.logs(cid).strip() == "given"
    # an entrypoint drops the image's cmd; env merges; workdir from the image
    cid = rt.run(ref, entrypoint=["/bin/sh", "-c"],
                 cmd=["echo $FOO $BAR $KEEP $(pwd) $(id -u) $HOSTNAME"], env=["FOO=user", "BAR=2"])
    rt.wait(cid)
    foo, bar, keep, cwd, uid, host = rt.logs(cid).split()
    assert (foo, bar, keep, cwd, uid) == ("user", "2", "1", "/app", "0")
    assert cid.startswith(host)
    # user and workdir overrides
    cid = rt.run(ref, entrypoint=["/bin/sh", "-c", "echo $(id -u):$(id -g) $(pwd)"], user="app",
                 workdir="/tmp")
    rt.wait(cid)
    assert rt.logs(cid).strip() == "1000:1000 /tmp"


def test_isolation_and_hardening(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    script = ("echo pid1=$(cat /proc/1/comm); "
              "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; "
              "touch /written && echo wrote")
    cid = rt.run(ref, cmd=["sh", "-c", script])
    assert rt.wait(cid)["StatusCode"] == 0
    out = rt.logs(cid)
    assert "pid1=sh" in out
    assert "NoNewPrivs:\t1" in out
    assert "Seccomp:\t2" in out
    capeff = int(out.split("CapEff:\t")[1].split()[0], 16)
    assert capeff == 0xa80425fb  # Docker's default capability set
    assert "wrote" in out
    # the write went to the container's own layer, not the image's
    layers = rt.b.state_dir / "runtime" / "layers"
    assert not any((d / "written").exists() for d in layers.iterdir())
    assert (rt.b.state_dir / "runtime" / "containers" / cid / "upper" / "written").exists()
    # read-only root filesystem
    cid = rt.run(ref, cmd=["sh", "-c", "touch /x"], read_only=True)
    assert rt.wait(cid)["StatusCode"] != 0


def test_memory_limit_oom(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    # a shell doubling a string (only pid 1 grows) under a 16 MiB limit
    cid = rt.run(ref, memory=16 * 1024 * 1024,
                 cmd=["sh", "-c", "x=a; while true; do x=$x$x; done"])
    w = rt.wait(cid, timeout=60)
    assert w["OOMKilled"] is True, (w, rt.logs(cid))
    assert w["StatusCode"] == 137
    info = rt.inspect(cid)
    assert info["Reason"] == "OOMKilled" and info["OOMKilled"] is True
    # cpu limit is accepted and applied
    cid = rt.run(ref, cpus=0.5, cmd=["cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"])
    rt.wait(cid)
    assert rt.logs(cid).strip() == "50000"


def test_stop_with_timeout_then_kill(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    # ignores SIGTERM: stop waits t seconds, then kills
    cid = rt.run(ref, cmd=["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"])
    t0 = time.monotonic()
    r = requests.post(rt.url(f"/api/containers/{cid}/stop"), params={"t": "1"}, timeout=30)
    assert r.status_code == 204, r.text
    took = time.monotonic() - t0
    assert 0.9 <= took < 10, took
    info = rt.inspect(cid)
    assert info["State"] == "exited" and info["ExitCode"] == 137
    # a container that honours SIGTERM stops at once (pid 1 ignores signals
    # it has no handler for, so the shell traps it)
    cid = rt.run(ref, cmd=["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"])
    t0 = time.monotonic()
    r = requests.post(rt.url(f"/api/containers/{cid}/stop"), params={"t": "10"}, timeout=30)
    assert r.status_code == 204
    assert time.monotonic() - t0 < 5
    # kill with a signal
    cid = rt.run(ref, cmd=["sleep", "1000"])
    r = requests.post(rt.url(f"/api/containers/{cid}/kill"), params={"signal": "KILL"}, timeout=30)
    assert r.status_code == 204
    assert rt.wait(cid)["StatusCode"] == 137
    # removing a running container needs force
    cid = rt.run(ref, cmd=["sleep", "1000"])
    assert rt.remove(cid, force=False).status_code == 409
    assert rt.remove(cid, force=True).status_code == 204


def test_logs_follow(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    cid = rt.run(ref, cmd=["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"])
    r = requests.get(rt.url(f"/api/containers/{cid}/logs"), params={"follow": "1"}, stream=True,
                     timeout=30)
    assert r.status_code == 200
    lines = [line.decode() for line in r.iter_lines() if line]
    assert lines == ["line1", "line2", "line3"]


def test_berthd_killed_while_containers_run(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    running = rt.run(ref, name="survivor", cmd=["sleep", "1000"])
    quick = rt.run(ref, name="quick", cmd=["sh", "-c", "sleep 1; exit 7"])
    rt.b.kill9()
    time.sleep(1.5)  # `quick` exits while berthd is down
    rt.b.start()
    info = rt.inspect("survivor")
    assert info["State"] == "running" and info["Id"] == running
    info = rt.inspect("quick")
    assert info["State"] == "exited" and info["ExitCode"] == 7 and info["Id"] == quick
    # the survivor is still managed: stop it
    r = requests.post(rt.url("/api/containers/survivor/stop"), params={"t": "2"}, timeout=30)
    assert r.status_code == 204
    assert rt.inspect("survivor")["State"] == "exited"
    # a clean restart leaves containers alone too
    cid = rt.run(ref, cmd=["sleep", "1000"])
    rt.b.restart()
    assert rt.inspect(cid)["State"] == "running"


def test_create_errors(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    rt.create("no/such:image", expect=404)
    rt.create(ref, name="bad name", expect=400)
    rt.create(ref, network="weird", expect=400)
    rt.create(ref, memory=10, expect=400)
    c = rt.create(ref, name="dup", cmd=["true"])
    rt.create(ref, name="dup", expect=409)
    r = requests.post(rt.url("/api/containers/nope/start"), timeout=10)
    assert r.status_code == 404
    r = requests.post(rt.url(f"/api/containers/{c['Id']}/kill"), params={"signal": "NOPE"}, timeout=10)
    assert r.status_code == 400
    # an image in use cannot be removed
    r = requests.delete(rt.url("/api/images/" + ref), timeout=10)
    assert r.status_code == 409


def test_stop_uses_the_image_stop_signal(rt):
    ref = rt.registry.ref("wh")   # StopSignal: SIGUSR1
    rt.pull(ref)
    cid = rt.run(ref, entrypoint=["/bin/sh", "-c"],
                 cmd=["trap 'exit 42' USR1; trap 'exit 15' TERM; while true; do sleep 0.1; done"])
    r = requests.post(rt.url(f"/api/containers/{cid}/stop"), params={"t": "10"}, timeout=30)
    assert r.status_code == 204
    assert rt.inspect(cid)["ExitCode"] == 42
