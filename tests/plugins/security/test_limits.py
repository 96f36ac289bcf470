# SPDX-License-Identifier: LGPL-2.1-or-later
"""Denial-of-service limits of the HTTP API: token buckets per client
address and per ACL token ([security] rate_limit, rate_burst,
token_rate_limit, token_rate_burst) answered 429 with Retry-After, the unix
socket never limited, SIGHUP rereading them, and the cap on concurrent
blocking queries per client address ([security] max_blocking_per_client).

A second client address is 127.0.0.2 (all of 127/8 is loopback on Linux),
bound as the source with http.client's source_address."""

import http.client
import json
import signal
import threading
import time

import pytest


def start(berthd_factory, tmp_path, config):
    conf = tmp_path / "berth.conf"
    conf.write_text(config)
    b = berthd_factory(extra_args=["--config", str(conf)])
    b.conf = conf
    return b


class Client:
    """A keep-alive HTTP client with a chosen source address."""

    def __init__(self, b, source="127.0.0.1", token=None):
        self.conn = http.client.HTTPConnection(b.host, b.port, timeout=30 * b.TIME_SCALE,
                                               source_address=(source, 0))
        self.token = token

    def get(self, path, token=None):
        headers = {}
        token = token if token is not None else self.token
        if token is not None:
            headers["X-Consul-Token"] = token
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        body = r.read()
        return r.status, r.headers, body

    def close(self):
        self.conn.close()


def flood(client, n, path="/v1/status/leader", token=None):
    return [client.get(path, token) for _ in range(n)]


def test_one_address_flooding_gets_429_others_do_not(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path,
              "[security]\nrate_limit = 2\nrate_burst = 5\ntoken_rate_limit = 0\n")
    time.sleep(3)   # the start's own requests are forgotten: a full bucket
    flooder = Client(b, "127.0.0.1")
    replies = flood(flooder, 20)
    statuses = [s for s, _, _ in replies]
    # the burst is served, then the address is refused
    assert statuses[:5] == [200] * 5, statuses
    assert statuses.count(429) >= 14, statuses
    status, headers, body = next(r for r in replies if r[0] == 429)
    # Retry-After: the seconds until the next token (at 2/s: 1)
    assert headers["Retry-After"] == "1"
    assert "Too many requests from 127.0.0.1" in json.loads(body)["message"]

    # another address is served meanwhile
    other = Client(b, "127.0.0.2")
    assert [s for s, _, _ in flood(other, 5)] == [200] * 5
    # and the flooder is served again once it waited as told
    time.sleep(int(headers["Retry-After"]))
    assert flooder.get("/v1/status/leader")[0] == 200
    flooder.close()
    other.close()


def test_unix_socket_is_not_limited(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path,
              "[security]\nrate_limit = 1\nrate_burst = 1\ntoken_rate_limit = 1\ntoken_rate_burst = 1\n")
    statuses = [b.unix_request("GET", "/v1/status/leader").status for _ in range(30)]
    assert statuses == [200] * 30
    # while TCP from the same host is limited
    tcp = Client(b)
    assert 429 in [s for s, _, _ in flood(tcp, 10)]
    tcp.close()


def test_per_token_limit_follows_the_token_across_addresses(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path,
              "[security]\nrate_limit = 10000\nrate_burst = 10000\n"
              "token_rate_limit = 2\ntoken_rate_burst = 4\n")
    one = Client(b, "127.0.0.1")
    two = Client(b, "127.0.0.2")
    replies = flood(one, 10, token="flood-token")
    statuses = [s for s, _, _ in replies]
    assert 429 in statuses, statuses
    assert statuses.index(429) >= 4, statuses   # the burst went through first
    status, headers, body = next(r for r in replies if r[0] == 429)
    assert headers["Retry-After"] == "1"
    assert "token" in json.loads(body)["message"]
    # the same token from another address is still over its rate
    assert two.get("/v1/status/leader", token="flood-token")[0] == 429
    # another token, and no token, from the flooding address are not
    assert two.get("/v1/status/leader", token="other-token")[0] != 429
    assert one.get("/v1/status/leader", token="other-token")[0] != 429
    assert [s for s, _, _ in flood(one, 5, token="")] == [200] * 5
    one.close()
    two.close()


def test_sighup_rereads_the_limits(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path, "[security]\nrate_limit = 0\ntoken_rate_limit = 0\n")
    c = Client(b)
    # off: no limit at all
    assert 429 not in [s for s, _, _ in flood(c, 300)]
    b.conf.write_text("[security]\nrate_limit = 1\nrate_burst = 3\ntoken_rate_limit = 0\n")
    b.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10 * b.TIME_SCALE
    while 429 not in [s for s, _, _ in flood(c, 5)]:
        assert time.monotonic() < deadline, "SIGHUP did not bring the limit in"
        time.sleep(0.2)
    c.close()


def test_blocking_queries_capped_per_client_address(berthd_factory, tmp_path):
    b = start(berthd_factory, tmp_path, "[security]\nmax_blocking_per_client = 2\n")
    token = b.token
    r = b.put("/v1/kv/cap", data=b"1")
    assert r.status_code == 200
    index = int(b.get("/v1/kv/cap").headers["X-Consul-Index"])
    path = f"/v1/kv/cap?index={index}&wait=60s"

    results = []

    def hold(source):
        c = Client(b, source, token)
        results.append(c.get(path)[0])
        c.close()

    holders = [threading.Thread(target=hold, args=("127.0.0.1",)) for _ in range(2)]
    for t in holders:
        t.start()
    # the two are held (a blocking query answers only when the key changes)
    time.sleep(1)
    assert results == []
    # a third from the same address is refused at once, with a clear message
    third = Client(b, "127.0.0.1", token)
    status, headers, body = third.get(path)
    assert status == 429
    assert "Retry-After" in headers
    assert "blocking queries" in json.loads(body)["message"]
    # a non-blocking read from the same address is served
    assert third.get("/v1/kv/cap")[0] == 200
    # another address may still block
    other = threading.Thread(target=hold, args=("127.0.0.2",))
    other.start()
    time.sleep(0.5)
    assert results == []
    # a write wakes them all; then the address may block again
    assert b.put("/v1/kv/cap", data=b"2").status_code == 200
    for t in holders + [other]:
        t.join(10 * b.TIME_SCALE)
    assert results == [200, 200, 200]
    index = int(b.get("/v1/kv/cap").headers["X-Consul-Index"])
    again = []

    def hold_again():
        c = Client(b, "127.0.0.1", token)
        again.append(c.get(f"/v1/kv/cap?index={index}&wait=1s")[0])
        c.close()

    threads = [threading.Thread(target=hold_again) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10 * b.TIME_SCALE)
    assert again == [200, 200]
    third.close()
