# SPDX-License-Identifier: LGPL-2.1-or-later
"""Leader election with sessions, as Consul's users do it: two separate
processes, each with a session (TTL 3s — the agent's session_ttl_min
lowered to 1s, as Consul allows — lock delay 1s), loop on acquire
and renew. Exactly one of them leads at any time; when the leader is
killed with SIGKILL its session runs out (twice the TTL) and the other
takes over."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

WORKER = r'''
import json, sys, time
import consul

host, port, token, key, name, out, ttl = sys.argv[1:]
c = consul.Consul(host=host, port=int(port), token=token)
# python-consul's session calls send no token: the client's default header
c.http.session.headers["X-Consul-Token"] = token
# python-consul refuses a TTL under Consul's default minimum (10s) on its
# own: the session is created with a plain request, used with the client
import requests
sid = requests.put(f"http://{host}:{port}/v1/session/create", timeout=10,
                   headers={"X-Consul-Token": token},
                   json={"Name": name, "TTL": ttl + "s", "LockDelay": "1s"}).json()["ID"]
with open(out, "a") as f:
    f.write(json.dumps({"sid": sid}) + "\n")
while True:
    c.session.renew(sid)
    leader = c.kv.put(key, name, acquire=sid)
    with open(out, "a") as f:
        f.write(json.dumps({"t": time.time(), "leader": leader}) + "\n")
    time.sleep(0.5)
'''

TTL = 3
LOCK_DELAY = 1


def read_log(path):
    if not path.exists():
        return None, []
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    sid = lines[0]["sid"] if lines else None
    return sid, [x for x in lines[1:] if "t" in x]


@pytest.fixture
def node(discovery_node):
    return discovery_node("node1", dns=False,
                          extra_config="[discovery]\nsession_ttl_min = 1s\n")


def test_two_processes_one_leader_and_takeover(node, tmp_path, wait_until):
    host, port = node.http_addr.rsplit(":", 1)
    logs = {name: tmp_path / f"{name}.log" for name in ("alpha", "beta")}
    procs = {}
    try:
        for name, log in logs.items():
            procs[name] = subprocess.Popen(
                [sys.executable, "-c", WORKER, host, port, node.token, "service/leader", name,
                 str(log), str(TTL)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: all(len(read_log(p)[1]) >= 3 for p in logs.values()), timeout=15,
                   what="both workers running")
        sids = {name: read_log(p)[0] for name, p in logs.items()}
        c = node.consul()

        # watch a while: one holder, never changing, and only it says it leads
        holders = set()
        end = time.monotonic() + 4
        while time.monotonic() < end:
            holders.add(c.kv.get("service/leader")[1]["Session"])
            time.sleep(0.2)
        assert len(holders) == 1
        holder = holders.pop()
        leader = next(name for name, sid in sids.items() if sid == holder)
        follower = next(name for name in sids if name != leader)
        _, leader_lines = read_log(logs[leader])
        _, follower_lines = read_log(logs[follower])
        assert follower_lines and not any(x["leader"] for x in follower_lines)
        first = next(i for i, x in enumerate(leader_lines) if x["leader"])
        assert all(x["leader"] for x in leader_lines[first:])
        assert c.kv.get("service/leader")[1]["Value"] == leader.encode()

        # the leader dies without a word: its session outlives it by 2x TTL
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait()
        killed = time.monotonic()
        took_over = wait_until(
            lambda: c.kv.get("service/leader")[1].get("Session") == sids[follower]
            and time.monotonic(), timeout=2 * TTL + LOCK_DELAY + 8, interval=0.2,
            what="the follower to take over")
        elapsed = took_over - killed
        assert 2 * TTL - 1 <= elapsed <= 2 * TTL + LOCK_DELAY + 3 * node.TIME_SCALE, elapsed
        assert c.kv.get("service/leader")[1]["Value"] == follower.encode()
        assert [s["ID"] for s in c.session.list()[1]] == [sids[follower]]
        # and the follower knows it leads now
        wait_until(lambda: read_log(logs[follower])[1][-1]["leader"], timeout=3,
                   what="the follower's own view")
        assert procs[follower].poll() is None, procs[follower].stderr.read().decode()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stderr.close()
