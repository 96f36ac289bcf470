# SPDX-License-Identifier: LGPL-2.1-or-later
"""Consul blocking queries (?index=&wait=) on the KV store."""

import threading
import time


class BlockingGet(threading.Thread):
    """Run c.kv.get(...) in a thread and record when it returned."""

    def __init__(self, berthd, key, **kwargs):
        super().__init__(daemon=True)
        self.client = berthd.consul()
        self.key = key
        self.kwargs = kwargs
        self.result = None
        self.error = None
        self.started_at = None
        self.returned_at = None

    def run(self):
        self.started_at = time.monotonic()
        try:
            self.result = self.client.kv.get(self.key, **self.kwargs)
        except Exception as e:  # reported by the test
            self.error = e
        self.returned_at = time.monotonic()

    def finish(self, timeout):
        self.join(timeout)
        assert not self.is_alive(), f"blocking get on {self.key!r} did not return within {timeout}s"
        assert self.error is None, f"blocking get failed: {self.error!r}"
        return self.result


def assert_still_blocked(*queries, hold=0.5):
    """Each query must not return during `hold` seconds (it really blocks)."""
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        for q in queries:
            assert q.returned_at is None, (
                f"blocking get on {q.key!r} returned early "
                f"({q.returned_at - q.started_at:.3f}s): {q.result!r} {q.error!r}")
        time.sleep(0.02)


def test_blocking_query_woken_by_put(berthd):
    c = berthd.consul()
    c.kv.put("watched", "v1")
    idx, item = c.kv.get("watched")
    assert item["Value"] == b"v1"

    q = BlockingGet(berthd, "watched", index=idx, wait="30s")
    q.start()
    assert_still_blocked(q, hold=0.7)

    put_at = time.monotonic()
    assert c.kv.put("watched", "v2") is True
    new_idx, new_item = q.finish(timeout=10 * berthd.TIME_SCALE)

    assert q.returned_at >= put_at
    assert q.returned_at - put_at < 2.0 * berthd.TIME_SCALE, "not woken promptly"
    assert new_item["Value"] == b"v2"
    assert int(new_idx) > int(idx)
    assert int(new_idx) >= new_item["ModifyIndex"] > item["ModifyIndex"]


def test_blocking_query_woken_by_create(berthd):
    c = berthd.consul()
    c.kv.put("unrelated", "x")
    idx, item = c.kv.get("later")
    assert item is None

    q = BlockingGet(berthd, "later", index=idx, wait="30s")
    q.start()
    assert_still_blocked(q, hold=0.5)
    put_at = time.monotonic()
    c.kv.put("later", "born")
    _, item = q.finish(timeout=10 * berthd.TIME_SCALE)
    assert q.returned_at - put_at < 2.0 * berthd.TIME_SCALE
    assert item is not None and item["Value"] == b"born"


def test_blocking_query_woken_by_delete(berthd):
    c = berthd.consul()
    c.kv.put("doomed", "x")
    idx, _ = c.kv.get("doomed")

    q = BlockingGet(berthd, "doomed", index=idx, wait="30s")
    q.start()
    assert_still_blocked(q, hold=0.5)
    c.kv.delete("doomed")
    new_idx, item = q.finish(timeout=10 * berthd.TIME_SCALE)
    assert item is None
    assert int(new_idx) > int(idx)


def test_blocking_recurse_woken_by_child_put(berthd):
    c = berthd.consul()
    c.kv.put("svc/a", "1")
    idx, items = c.kv.get("svc/", recurse=True)
    assert len(items) == 1

    q = BlockingGet(berthd, "svc/", index=idx, recurse=True, wait="30s")
    q.start()
    assert_still_blocked(q, hold=0.5)
    c.kv.put("svc/deep/b", "2")
    _, items = q.finish(timeout=10 * berthd.TIME_SCALE)
    assert [i["Key"] for i in items] == ["svc/a", "svc/deep/b"]


def test_blocking_query_wait_timeout_keeps_index(berthd):
    c = berthd.consul()
    c.kv.put("still", "same")
    idx, _ = c.kv.get("still")

    t0 = time.monotonic()
    new_idx, item = c.kv.get("still", index=idx, wait="1s")
    elapsed = time.monotonic() - t0

    assert elapsed >= 0.95, f"returned after {elapsed:.3f}s, before the 1s wait"
    # wait + jitter (wait/16) + slack
    assert elapsed < 3.0 * berthd.TIME_SCALE, f"returned after {elapsed:.3f}s"
    assert new_idx == idx
    assert item["Value"] == b"same"


def test_unrelated_write_does_not_wake(berthd):
    c = berthd.consul()
    c.kv.put("quiet", "q")
    c.kv.put("noisy", "0")
    idx, _ = c.kv.get("quiet")

    q = BlockingGet(berthd, "quiet", index=idx, wait="2s")
    q.start()
    assert_still_blocked(q, hold=0.3)
    for i in range(1, 4):
        c.kv.put("noisy", str(i))
    _, item = q.finish(timeout=10 * berthd.TIME_SCALE)
    elapsed = q.returned_at - q.started_at
    assert elapsed >= 1.9, f"woken after {elapsed:.3f}s by writes to another key"
    assert item["Value"] == b"q"


def test_many_waiters_all_woken(berthd):
    c = berthd.consul()
    c.kv.put("crowd", "0")
    idx, _ = c.kv.get("crowd")
    queries = [BlockingGet(berthd, "crowd", index=idx, wait="30s") for _ in range(12)]
    for q in queries:
        q.start()
    assert_still_blocked(*queries, hold=0.5)
    c.kv.put("crowd", "1")
    for q in queries:
        _, item = q.finish(timeout=10 * berthd.TIME_SCALE)
        assert item["Value"] == b"1"
    # the daemon is still healthy after the burst
    assert c.kv.get("crowd")[1]["Value"] == b"1"


def test_blocking_query_with_stale_index_returns_immediately(berthd):
    c = berthd.consul()
    c.kv.put("moved", "1")
    old_idx, _ = c.kv.get("moved")
    c.kv.put("moved", "2")

    t0 = time.monotonic()
    new_idx, item = c.kv.get("moved", index=old_idx, wait="10s")
    assert time.monotonic() - t0 < 2.0 * berthd.TIME_SCALE
    assert item["Value"] == b"2"
    assert int(new_idx) > int(old_idx)
