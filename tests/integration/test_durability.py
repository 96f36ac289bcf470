# SPDX-License-Identifier: LGPL-2.1-or-later
"""Acknowledged writes survive a kill -9; the index survives restarts."""

import base64
import threading
import time

import pytest
import requests


class Writer(threading.Thread):
    """PUT dur/<n> = value-<n> as fast as possible, recording every write
    the daemon acknowledged (HTTP 200 with body `true`)."""

    def __init__(self, berthd):
        super().__init__(daemon=True)
        self.url = berthd.url
        self.acked = {}
        self.in_flight = None
        self.stop = threading.Event()
        self.unexpected = None
        self.failed_with = None

    def run(self):
        session = requests.Session()
        n = 0
        while not self.stop.is_set():
            key, value = f"dur/{n:06d}", f"value-{n}-" + "x" * (n % 50)
            self.in_flight = key
            try:
                r = session.put(f"{self.url}/v1/kv/{key}", data=value, timeout=10)
            except requests.RequestException as e:
                self.failed_with = e
                return  # the daemon is gone
            length = r.headers.get("Content-Length")
            if length is not None and int(length) != len(r.content):
                # killed between the head and the body: Debian's urllib3
                # returns the short body without an error. Not an
                # acknowledgment; the write stays in flight.
                self.failed_with = f"short reply: {len(r.content)} of {length} bytes"
                return
            if r.status_code == 200 and r.text.strip() == "true":
                self.acked[key] = value
            else:
                self.unexpected = (key, r.status_code, r.text[:200])
                return
            self.in_flight = None
            n += 1


@pytest.mark.parametrize("sync", ["normal", "full"])
def test_acknowledged_writes_survive_kill9(berthd_factory, sync):
    berthd = berthd_factory(extra_args=["--sync", sync])
    writer = Writer(berthd)
    writer.start()

    deadline = time.monotonic() + 60 * berthd.TIME_SCALE
    while len(writer.acked) < 250:
        assert writer.is_alive(), f"writer stopped: {writer.unexpected or writer.failed_with!r}"
        assert time.monotonic() < deadline, f"only {len(writer.acked)} acks in time"
        time.sleep(0.01)

    berthd.kill9()
    writer.join(15 * berthd.TIME_SCALE)
    assert not writer.is_alive()
    assert writer.unexpected is None, writer.unexpected
    acked = dict(writer.acked)
    assert len(acked) >= 250

    berthd.restart()
    r = berthd.get("/v1/kv/dur/?recurse")
    assert r.status_code == 200, r.text[:300]
    found = {e["Key"]: base64.b64decode(e["Value"]).decode() for e in r.json()}

    missing = sorted(set(acked) - set(found))
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    wrong = [k for k in acked if found[k] != acked[k]]
    assert not wrong, f"values changed: {wrong[:5]}"
    # only the write in flight at the kill may have landed unacknowledged
    extra = set(found) - set(acked)
    assert extra <= {writer.in_flight}, f"unexpected keys {sorted(extra)[:5]}"

    # and the restarted daemon carries on with a higher index
    idx = int(r.headers["X-Consul-Index"])
    c = berthd.consul()
    assert c.kv.put("after/restart", "yes") is True
    _, item = c.kv.get("after/restart")
    assert item["ModifyIndex"] > idx


def test_data_and_index_survive_clean_restart(berthd):
    c = berthd.consul()
    c.kv.put("keep/a", "1", flags=9)
    c.kv.put("keep/b", bytes(range(256)))
    c.kv.put("keep/a", "2", flags=9)
    idx_before, items_before = c.kv.get("keep/", recurse=True)

    berthd.restart()

    c = berthd.consul()
    idx_after, items_after = c.kv.get("keep/", recurse=True)
    assert items_after == items_before
    assert int(idx_after) >= int(idx_before)
    c.kv.put("keep/c", "3")
    _, item = c.kv.get("keep/c")
    assert item["CreateIndex"] > int(idx_before)


def test_restart_after_kill9_uses_same_socket_and_port(berthd):
    c = berthd.consul()
    c.kv.put("k", "v")
    berthd.kill9()
    # a stale socket file and lock are left behind; the next start copes
    berthd.restart()
    assert berthd.unix_request("GET", "/v1/kv/k?raw").body == b"v"
    assert berthd.consul().kv.get("k")[1]["Value"] == b"v"
