# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the discovery plugin's catalog, health, DNS and WAN tests.

  discovery_node  make(name="node1", dc="dc1", dns=True, extra_config="")
                  -> Berthd with a config file giving its node name and
                  datacenter, and (dns=True) a free DNS port in .dns_port;
                  the plugins other than discovery and security are
                  disabled. Each has an admin listener (.admin_addr,
                  .admin_consul()) for joins; the nodes of one test share
                  their management token ([security] initial_management,
                  also [discovery] wan_token), as datacenters must for
                  requests forwarded with ?dc=
  wait_until      wait_until(fn, timeout=5, what="...") polls fn() until it
                  returns a true value (returned) or fails the test
"""

import time
import uuid

import consul
import pytest

# The discovery tests need only the discovery plugin and the security plugin
# (ACLs are always on): the others (when built) are disabled, which keeps
# every start fast and the logs short.
OTHER_PLUGINS = ("runtime", "scheduler", "monitoring")

# What a Consul operator gives the anonymous token so that DNS answers
# (DNS queries carry no token).
DNS_READ_RULES = 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }\n'



@pytest.fixture
def discovery_node(berthd_factory, berth_env, tmp_path):
    management = str(uuid.uuid4())

    def make(name="node1", dc="dc1", dns=True, extra_config="", start=True,
             extra_args=()):
        conf = tmp_path / f"{name}.conf"
        conf.write_text(f"[berthd]\nnode_name = {name}\ndatacenter = {dc}\n"
                        f"[security]\ninitial_management = {management}\n"
                        f"[discovery]\nwan_token = {management}\n"
                        f"{extra_config}\n")
        admin_port = berth_env.free_port()
        args = ["--config", str(conf), "--listen", f"admin=127.0.0.1:{admin_port}",
                *extra_args]
        for plugin in OTHER_PLUGINS:
            args += ["--disable-plugin", plugin]
        dns_port = None
        if dns:
            dns_port = berth_env.free_port()
            args += ["--dns-addr", f"127.0.0.1:{dns_port}"]
        b = berthd_factory(name=name, start=start, extra_args=args)
        if start and dns:
            b.allow_anonymous(DNS_READ_RULES)
        b.dns_port = dns_port
        b.admin_addr = f"127.0.0.1:{admin_port}"
        b.admin_url = f"http://{b.admin_addr}"
        if start:
            b.add_listener_address(b.admin_addr)
        b.admin_consul = lambda: consul.Consul(host="127.0.0.1", port=admin_port,
                                               token=management)
        b.node_name = name
        b.datacenter = dc
        return b
    return make


@pytest.fixture
def wait_until(berth_env):
    def wait(fn, timeout=5, what="condition", interval=0.05):
        deadline = time.monotonic() + timeout * berth_env.time_scale
        last = None
        while True:
            last = fn()
            if last:
                return last
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what} (last: {last!r})",
                            pytrace=False)
            time.sleep(interval)
    return wait
