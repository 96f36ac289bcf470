# SPDX-License-Identifier: LGPL-2.1-or-later
"""Container networking: bridge via CNI with port mappings, host, none."""

import socket
import time

import requests


def http_get(port, timeout=15):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            return requests.get(f"http://127.0.0.1:{port}/index.html", timeout=2)
        except requests.RequestException as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port}: {last}")


def test_two_containers_same_port_different_host_ports(rt, berth_env):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    p1, p2 = berth_env.free_port(), berth_env.free_port()
    httpd = ["httpd", "-f", "-p", "80", "-h", "/www"]
    a = rt.create(ref, network="bridge", cmd=httpd, ports=[{"host": p1, "container": 80}])
    b = rt.create(ref, network="bridge", cmd=httpd + ["-c", "/dev/null"],
                  ports=[{"host": p2, "container": 80, "protocol": "tcp"}])
    rt.start(a["Id"])
    rt.start(b["Id"])
    assert a["Address"] and b["Address"] and a["Address"] != b["Address"]
    for port in (p1, p2):
        r = http_get(port)
        assert r.status_code == 200 and r.text == "hello from berth\n"
    info = rt.inspect(a["Id"])
    assert info["Address"] == a["Address"] and info["Network"] == "bridge"
    assert info["Ports"] == [{"host": p1, "container": 80}]
    # the mapping goes away with the container
    assert rt.remove(a["Id"]).status_code == 204
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", p1)) != 0
    r = http_get(p2)
    assert r.status_code == 200


def test_host_and_none_networks(rt):
    ref = rt.registry.ref("base")
    rt.pull(ref)
    cid = rt.run(ref, network="none", cmd=["sh", "-c", "ls /sys/class/net | tr '\\n' ' '"])
    rt.wait(cid)
    assert rt.logs(cid).split() == ["lo"]
    cid = rt.run(ref, network="host", cmd=["sh", "-c", "ls /sys/class/net | wc -l"])
    rt.wait(cid)
    assert int(rt.logs(cid).strip()) > 1
    # port mappings need the bridge
    rt.create(ref, network="host", ports=[{"host": 1234, "container": 80}], expect=400)
