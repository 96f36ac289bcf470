# SPDX-License-Identifier: LGPL-2.1-or-later
"""Admission (the launch queue), server-sent events, placement limits."""

import json
import threading
import time

import requests
from marathon import MarathonApp

SLEEP = "sleep 1000"


def node_memory_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal")


def test_queue_when_memory_is_exhausted(sched):
    total = node_memory_mb()
    big = total - 300
    r = sched.post("/v2/apps", json={"id": "/big", "cmd": SLEEP, "cpus": 0.01, "mem": big, "instances": 1})
    assert r.status_code == 201
    sched.wait_running("/big", 1)
    r = sched.post("/v2/apps", json={"id": "/waiting", "cmd": SLEEP, "cpus": 0.01, "mem": 512,
                                     "instances": 2})
    assert r.status_code == 201

    def queued():
        q = sched.get("/v2/queue").json()["queue"]
        return [i for i in q if i["app"]["id"] == "/waiting"]
    item = sched.wait_until(queued, 10, "/waiting in the queue")[0]
    assert item["count"] == 2
    reason = item["processedOffersSummary"]["rejectSummaryLastOffers"][0]["reason"]
    assert reason.startswith("insufficient memory: 512 MB asked,"), reason
    assert sched.tasks("/waiting") == []
    # the real client parses the queue
    assert [i.app.id for i in sched.client.list_queue()] == ["/waiting"]
    # nothing is over-committed
    time.sleep(0.5)
    assert sched.tasks("/waiting") == []

    # resources free up: the waiting tasks launch
    sched.wait_deployments("/big")
    sched.client.delete_app("/big")
    sched.wait_running("/waiting", 2)
    sched.wait_until(lambda: not queued(), 10, "the queue to empty")


def test_cpu_admission(sched):
    r = sched.post("/v2/apps", json={"id": "/cpuhog", "cmd": SLEEP, "cpus": 1000, "mem": 8,
                                     "instances": 1})
    assert r.status_code == 201
    q = sched.wait_until(lambda: sched.get("/v2/queue").json()["queue"], 10, "a queued app")
    assert "insufficient cpus" in q[0]["processedOffersSummary"]["rejectSummaryLastOffers"][0]["reason"]


def test_hostname_unique_constraint(sched):
    r = sched.post("/v2/apps", json={"id": "/unique", "cmd": SLEEP, "cpus": 0.01, "mem": 8,
                                     "instances": 2, "constraints": [["hostname", "UNIQUE"]]})
    assert r.status_code == 201
    sched.wait_running("/unique", 1)
    q = sched.wait_until(lambda: sched.get("/v2/queue").json()["queue"], 10, "a queued task")
    assert q[0]["count"] == 1
    assert "UNIQUE" in q[0]["processedOffersSummary"]["rejectSummaryLastOffers"][0]["reason"]


def read_events(url, into, stop, query=""):
    try:
        _read_events(url, into, stop, query)
    except requests.exceptions.RequestException:
        if not stop.is_set():
            raise


def _read_events(url, into, stop, query):
    with requests.get(url + "/v2/events" + query, headers={"Accept": "text/event-stream"}, stream=True,
                      timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if stop.is_set():
                return
            line = line.decode()
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
                assert data["eventType"] == event
                into.append(data)


def test_events_in_order(sched):
    events = []
    stop = threading.Event()
    t = threading.Thread(target=read_events, args=(sched.url, events, stop), daemon=True)
    t.start()
    only = []
    t3 = threading.Thread(target=read_events,
                          args=(sched.url, only, stop, "?event_type=deployment_success"), daemon=True)
    t3.start()
    parsed = []

    def client_events():
        try:
            for e in sched.client.event_stream():
                parsed.append(e)
                if stop.is_set():
                    return
        except Exception:  # noqa: BLE001 - the stream ends with berthd
            if not stop.is_set():
                raise
    t2 = threading.Thread(target=client_events, daemon=True)
    t2.start()
    time.sleep(0.5)
    sched.client.create_app("/evented", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1))
    sched.wait_until(lambda: any(e["eventType"] == "deployment_success" for e in events), 15,
                     "deployment_success")
    types = [e["eventType"] for e in events]
    assert types[0] == "api_post_event"
    assert events[0]["appDefinition"]["id"] == "/evented"
    assert types[1] == "deployment_info"
    statuses = [e["taskStatus"] for e in events if e["eventType"] == "status_update_event"]
    assert statuses[-1] == "TASK_RUNNING"
    assert types.index("deployment_success") > types.index("status_update_event")
    assert types.index("deployment_step_success") < types.index("deployment_success")
    sched.wait_until(lambda: only, 5, "the filtered stream")
    assert [e["eventType"] for e in only] == ["deployment_success"]
    dep = events[1]["plan"]["id"]
    assert events[types.index("deployment_success")]["id"] == dep
    # python3-marathon builds its event objects from the same stream
    sched.wait_until(lambda: any(type(e).__name__ == "MarathonDeploymentSuccess" for e in parsed), 10,
                     "the client's events")
    names = [type(e).__name__ for e in parsed]
    assert names[0] == "MarathonApiPostEvent"
    assert "MarathonStatusUpdateEvent" in names

    # a kill is seen as TASK_KILLED
    task = sched.tasks("/evented")[0]["id"]
    sched.client.kill_task("/evented", task)
    sched.wait_until(lambda: any(e.get("taskId") == task and e.get("taskStatus") == "TASK_KILLED"
                                 for e in events), 10, "TASK_KILLED")
    stop.set()
