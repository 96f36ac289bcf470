# SPDX-License-Identifier: LGPL-2.1-or-later
"""berth run|ps|logs|stop|rm and berth image pull|ls|rm|import|save."""

import json
import time


def test_cli_images_and_containers(rt, run_cli, tmp_path, test_images, berth_env):
    b = rt.b
    ref = rt.registry.ref("base")
    rc, out, err = run_cli(["image", "pull", ref], berthd=b)
    assert rc == 0, err
    assert test_images.ids["base"] in out
    rc, out, err = run_cli(["image", "ls"], berthd=b)
    assert rc == 0 and rt.registry.ref("base") in out and "latest" in out, out

    # attached run: output, exit code, --rm
    rc, out, err = run_cli(["run", "--rm", "-e", "WHO=berth", "--network", "none", ref, "--",
                            "sh", "-c", "echo hi $WHO; exit 4"], berthd=b)
    assert rc == 4, err
    assert out == "hi berth\n"
    # --rm: berthd removes it once it has reported the exit
    deadline = time.monotonic() + 10
    while True:
        rc, out, err = run_cli(["ps", "-a", "--json"], berthd=b)
        assert rc == 0
        if json.loads(out) == [] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert json.loads(out) == []

    # a missing image is pulled first
    rc, out, err = run_cli(["run", "--rm", "--network", "none", rt.registry.ref("app")], berthd=b)
    assert rc == 0 and out == "from-image-cmd\n", (out, err)
    assert "pulling" in err

    # detached, with a name, a port and limits
    rc, out, err = run_cli(["run", "-d", "--name", "web", "-p", f"{berth_env.free_port()}:80", "-m", "32m",
                            "--cpus", "0.5", ref, "--", "httpd", "-f", "-p", "80", "-h", "/www"],
                           berthd=b)
    assert rc == 0, err
    cid = out.strip()
    assert len(cid) == 64
    rc, out, err = run_cli(["ps"], berthd=b)
    assert rc == 0 and "web" in out and "running" in out and "->80/tcp" in out, out
    info = rt.inspect("web")
    assert info["Spec"]["memory"] == 32 * 1024 * 1024 and info["Spec"]["cpus"] == 0.5
    rc, out, err = run_cli(["stop", "-t", "1", "web"], berthd=b)
    assert rc == 0, err
    rc, out, err = run_cli(["ps", "-a"], berthd=b)
    assert "exited" in out
    rc, out, err = run_cli(["logs", "web"], berthd=b)
    assert rc == 0
    rc, out, err = run_cli(["rm", "web"], berthd=b)
    assert rc == 0, err
    rc, out, err = run_cli(["rm", "web"], berthd=b)
    assert rc != 0 and "No such container" in err

    # logs -f of a finished container prints everything and returns
    rc, out, err = run_cli(["run", "-d", "--name", "talker", "--network", "none", ref, "--",
                            "sh", "-c", "echo one; echo two"], berthd=b)
    assert rc == 0, err
    rc, out, err = run_cli(["logs", "-f", "talker"], berthd=b)
    assert rc == 0 and out == "one\ntwo\n"
    rc, out, err = run_cli(["logs", "--tail", "1", "talker"], berthd=b)
    assert out == "two\n"
    run_cli(["rm", "-f", "talker"], berthd=b)

    # save, rm, import
    archive = tmp_path / "base.tar"
    rc, out, err = run_cli(["image", "save", "-o", archive, ref], berthd=b)
    assert rc == 0 and archive.stat().st_size > 100000, err
    # export is save; the tar travels in the response body, written by the CLI
    again = tmp_path / "again.tar"
    rc, out, err = run_cli(["image", "export", "-o", again, ref], berthd=b)
    assert rc == 0 and again.read_bytes() == archive.read_bytes(), err
    # import takes a tar, not a directory
    rc, out, err = run_cli(["image", "import", tmp_path], berthd=b)
    assert rc == 2 and "tar" in err
    rc, out, err = run_cli(["image", "rm", ref], berthd=b)
    assert rc == 0 and "Deleted" in out, err
    rc, out, err = run_cli(["image", "import", archive], berthd=b)
    assert rc == 0 and ref in out, (out, err)
    rc, out, err = run_cli(["image", "prune", "--all"], berthd=b)
    assert rc == 0 and "reclaimed" in out
