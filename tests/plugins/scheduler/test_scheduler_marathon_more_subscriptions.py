# SPDX-License-Identifier: LGPL-2.1-or-later
"""/v2/eventSubscriptions: callback URLs receive the events of /v2/events
by HTTP POST (tried again when the callback fails), through
marathon-python's subscription calls."""

import http.server
import json
import threading

import pytest
import requests
from marathon import MarathonApp
from marathon.exceptions import MarathonHttpError

SLEEP = "sleep 1000"


class Callback:
    """A local HTTP server recording the JSON bodies POSTed to it; the
    first `fail` requests are answered 500."""

    def __init__(self, fail=0):
        self.events = []
        self.attempts = 0
        self.fail = fail
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.attempts += 1
                    failing = outer.attempts <= outer.fail
                    if not failing:
                        outer.events.append(json.loads(body))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_type(self, event_type):
        with self.lock:
            return [e for e in self.events if e.get("eventType") == event_type]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def callback():
    c = Callback()
    yield c
    c.close()


def test_callback_receives_events(sched, callback):
    sub = sched.client.create_event_subscription(callback.url)
    assert sub["callbackUrl"] == callback.url
    assert sub["eventType"] == "subscribe_event"
    assert sched.client.list_event_subscriptions() == [callback.url]
    # subscribing twice keeps one subscription
    sched.client.create_event_subscription(callback.url)
    assert sched.client.list_event_subscriptions() == [callback.url]

    sched.client.create_app("/hooked", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=1))
    posted = sched.wait_until(lambda: callback.of_type("api_post_event"), 10, "an api_post_event callback")
    assert posted[0]["appDefinition"]["id"] == "/hooked"
    running = sched.wait_until(lambda: [e for e in callback.of_type("status_update_event")
                                        if e["taskStatus"] == "TASK_RUNNING"], 10, "a TASK_RUNNING callback")
    assert running[0]["appId"] == "/hooked"

    gone = sched.client.delete_event_subscription(callback.url)
    assert gone["eventType"] == "unsubscribe_event"
    assert sched.client.list_event_subscriptions() == []
    seen = len(callback.events)
    sched.client.scale_app("/hooked", instances=0)
    sched.wait_deployments("/hooked")
    assert len(callback.events) == seen


def test_failed_deliveries_are_tried_again(sched):
    flaky = Callback(fail=2)
    try:
        sched.client.create_event_subscription(flaky.url)
        sched.client.create_app("/retried", MarathonApp(cmd=SLEEP, cpus=0.01, mem=8, instances=0))
        sched.wait_until(lambda: flaky.of_type("api_post_event"), 15, "the event after two failures")
        assert flaky.attempts >= 3
    finally:
        flaky.close()


def test_subscriptions_survive_a_restart(sched_factory, callback):
    s = sched_factory()
    s.client.create_event_subscription(callback.url)
    s.berthd.restart()
    s.wait_until(lambda: s.get("/ping").status_code == 200, 10, "/ping")
    assert s.client.list_event_subscriptions() == [callback.url]


def test_bad_callback_urls_are_refused(sched):
    for url in ("", "ftp://example.com/x", "not a url", "http:///nohost", "http://h/" + "x" * 3000):
        r = sched.post("/v2/eventSubscriptions", params={"callbackUrl": url})
        assert r.status_code == 422, (url, r.text)
        assert r.json()["details"][0]["path"] == "/callbackUrl"
    r = sched.post("/v2/eventSubscriptions")
    assert r.status_code == 422
    with pytest.raises(MarathonHttpError):
        sched.client.create_event_subscription("file:///etc/passwd")
    assert sched.client.list_event_subscriptions() == []
