# SPDX-License-Identifier: LGPL-2.1-or-later
"""How the ACLs come up: [security] initial_management, and berthd never
serving when its security plugin did not start."""

import uuid

import consul
import pytest


def conf_with(tmp_path, text):
    conf = tmp_path / "berth.conf"
    conf.write_text(text)
    return conf


def test_initial_management_is_the_management_token(berthd_factory, tmp_path):
    secret = str(uuid.uuid4())
    conf = conf_with(tmp_path, f"[security]\ninitial_management = {secret}\n")
    b = berthd_factory(extra_args=["--config", conf], bootstrap=False)
    # bootstrapped on the first start, with the operator's own SecretID
    assert b.token_path.read_text().strip() == secret
    assert secret not in b.stdout() and secret not in b.stderr()
    c = consul.Consul(host=b.host, port=b.port, token=secret)
    assert c.kv.put("ops/x", "1") is True
    # nobody else may bootstrap now
    r = b.unix_request("PUT", "/v1/acl/bootstrap")
    assert r.status == 403
    # without the token: denied
    with pytest.raises(consul.ACLPermissionDenied):
        consul.Consul(host=b.host, port=b.port).kv.put("ops/y", "1")


def test_security_plugin_that_fails_stops_berthd(berthd_factory, tmp_path):
    conf = conf_with(tmp_path, "[security]\ninitial_management = not-a-uuid\n")
    b = berthd_factory(start=False)
    b.start(["--config", conf], wait=False)
    rc = b.wait_exit()
    assert rc != 0
    err = b.stderr()
    assert "initial_management must be a UUID" in err
    assert "does not serve without its ACLs" in err
