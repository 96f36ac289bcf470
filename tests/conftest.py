# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared pytest fixtures for Berth's tests.

Run from the repository root:

    BERTH_BUILD_DIR=build /usr/bin/python3 -m pytest -v tests/

Environment:
  BERTH_BUILD_DIR   meson build directory (default: <repo>/build)
  BERTH_SANITIZED   "1" when the binaries are built with ASan/UBSan; timeouts
                    are stretched and any sanitizer report fails the test.

Fixtures:
  berth_env       paths and settings of the build under test
  berthd          a started berthd (own state dir and port), stopped at
                  teardown; a non-zero exit status fails the test
  berthd_factory  make(name=None, start=True, extra_args=(), ...) -> Berthd,
                  for tests that need several daemons or control the start
  run_cli         run_cli(args, berthd=None, env=None, input=None)
                  -> (rc, stdout, stderr) for the `berth` command-line client

ACLs default to deny. Every daemon a test starts is bootstrapped after it
is ready (unless started with bootstrap=False): the fixture reads the
management token from `<state-dir>/bootstrap-token`, bootstrapping over the
unix socket first when berthd did not do it itself (--dev does), and hands
it to the clients: Berthd.token, .consul() (token=), .request/.get/...,
.raw_request (an X-Consul-Token header), run_cli (BERTH_TOKEN), and every
`requests` call to the daemon's address that carries no token of its own.
A test that wants the anonymous caller sends an empty X-Consul-Token.

When a test fails, the stdout/stderr of every berthd it started are attached
to the report.
"""

import http.client
import json
import os
import shutil
import select
import signal
import socket
import subprocess
import time
import uuid
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

REPO_DIR = Path(__file__).resolve().parent.parent
BUILD_DIR = Path(os.environ.get("BERTH_BUILD_DIR") or REPO_DIR / "build")
if not BUILD_DIR.is_absolute():
    BUILD_DIR = (Path.cwd() / BUILD_DIR).resolve()
SANITIZED = os.environ.get("BERTH_SANITIZED", "") == "1"

BERTHD = BUILD_DIR / "core" / "daemon" / "berthd"
BERTH_CLI = BUILD_DIR / "core" / "cli" / "berth"
LIBBERTH_DIR = BUILD_DIR / "core" / "libberth"
DISCOVERY_PLUGIN = BUILD_DIR / "plugins" / "discovery" / "berth-discovery.so"

# Sanitizer builds are several times slower; stretch every deadline.
TIME_SCALE = 3 if SANITIZED else 1

# Text that only appears in a child's stderr when a sanitizer found a bug.
# LeakSanitizer's words when its own tracer fails (not a report of ours)
LSAN_TOOL_FAILURE = "LeakSanitizer has encountered a fatal error"

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
    ": runtime error: ",
)

# Variables from the developer's shell that would redirect our clients.
_CLIENT_ENV_VARS = (
    "CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_SSL",
    "CONSUL_HTTP_SSL_VERIFY",
    "BERTH_HTTP_ADDR", "BERTH_ADDRESS", "BERTH_SOCKET", "BERTH_TOKEN",
    "BERTH_CONFIG",
)
for _var in _CLIENT_ENV_VARS:
    os.environ.pop(_var, None)


def child_env(extra=None):
    """Environment for a berthd or berth child process.

    English messages, no inherited client settings, and sanitizer options
    that turn every report into a non-zero exit status.  Values of None in
    `extra` remove the variable."""
    env = dict(os.environ)
    env["LC_ALL"] = "C.UTF-8"
    env.pop("LANGUAGE", None)
    if SANITIZED:
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


def sanitizer_report(text):
    """The first line of a sanitizer report in `text`, or None."""
    for line in text.splitlines():
        if any(marker in line for marker in SANITIZER_MARKERS):
            return line
    return None


_ports_handed_out = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (and that
    this test session has not handed out before)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port
    raise RuntimeError("could not find a free TCP port")


def _tail(path, max_lines=150):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = [f"... ({len(lines) - max_lines} earlier lines in {path})"] + lines[-max_lines:]
    return "\n".join(lines)


class Reply:
    """A parsed HTTP reply from the raw-socket helpers."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (case-insensitive)
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:200]!r}>"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._unix_path = str(path)

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._unix_path)
        self.sock = sock


class Berthd:
    """One berthd process (and its restarts) with its own state dir and port."""

    SANITIZED = SANITIZED
    TIME_SCALE = TIME_SCALE

    def __init__(self, workdir, name="berthd", port=None, state_dir=None,
                 create_state_dir=True):
        self.name = name
        self.workdir = Path(workdir) / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.state_dir = Path(state_dir) if state_dir else self.workdir / "state"
        if create_state_dir:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.http_addr_arg = None
        self.ready_path = "/v1/status/leader"
        self.extra_args = []
        self.proc = None
        self.returncode = None
        self.runs = []  # [(stdout_path, stderr_path)] one pair per start
        self.bootstrap = True
        self.token = None

    # -- addresses ---------------------------------------------------------

    @property
    def http_addr(self):
        return f"{self.host}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def socket(self):
        return self.state_dir / "berth.sock"

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    # -- logs --------------------------------------------------------------

    @property
    def stdout_path(self):
        return self.runs[-1][0]

    @property
    def stderr_path(self):
        return self.runs[-1][1]

    def stdout(self):
        """Everything the current (or last) run printed on stdout."""
        return Path(self.stdout_path).read_text(errors="replace")

    def stderr(self):
        """Everything the current (or last) run printed on stderr."""
        return Path(self.stderr_path).read_text(errors="replace")

    def log_sections(self):
        sections = []
        for i, (out, err) in enumerate(self.runs, 1):
            sections.append((f"{self.name} run {i} stdout", _tail(out)))
            sections.append((f"{self.name} run {i} stderr", _tail(err)))
        return sections

    # -- process control ---------------------------------------------------

    def command(self, extra_args=(), http_addr=None):
        return [str(BERTHD),
                "--state-dir", str(self.state_dir),
                "--http-addr", http_addr or self.http_addr,
                "--log-level", "debug",
                *[str(a) for a in extra_args]]

    def start(self, extra_args=(), wait=True, http_addr=None,
              ready_path="/v1/status/leader"):
        """Start berthd.  With wait=True, return once GET `ready_path`
        (/v1/status/leader) answers 200; fail the test if it dies or is not
        ready in time."""
        if not BERTHD.exists():
            pytest.fail(f"berthd is not built: {BERTHD} missing "
                        f"(set BERTH_BUILD_DIR)", pytrace=False)
        assert not self.running, f"{self.name} is already running"
        self.extra_args = list(extra_args)
        self.http_addr_arg = http_addr
        self.ready_path = ready_path
        n = len(self.runs) + 1
        out = self.workdir / f"{self.name}.{n}.stdout"
        err = self.workdir / f"{self.name}.{n}.stderr"
        self.runs.append((out, err))
        xdg = self.workdir / "xdg"
        env = child_env({
            "XDG_CONFIG_HOME": xdg / "config",
            "XDG_DATA_HOME": xdg / "data",
            "XDG_CACHE_HOME": xdg / "cache",
            "XDG_RUNTIME_DIR": xdg / "runtime",
        })
        for sub in ("config", "data", "cache", "runtime"):
            (xdg / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(out, "wb") as fo, open(err, "wb") as fe:
            self.proc = subprocess.Popen(
                self.command(extra_args, http_addr),
                stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                cwd=self.workdir, env=env)
        self.returncode = None
        if wait:
            self.wait_ready(ready_path)
            if self.bootstrap:
                self.load_token()
        return self

    @property
    def token_path(self):
        return self.state_dir / "bootstrap-token"

    def load_token(self):
        """The management token: from `<state-dir>/bootstrap-token`, after
        bootstrapping the ACLs over the unix socket (as the admin would with
        `berth acl bootstrap`) if berthd has not done it itself."""
        if not self.token_path.exists():
            try:
                self.unix_request("PUT", "/v1/acl/bootstrap")
            except OSError:
                pass
        if self.token_path.exists():
            self.token = self.token_path.read_text().strip()
            _TOKENS[self.http_addr] = self.token
        else:
            self.token = None
        return self.token

    def add_listener_address(self, address):
        """Requests to another listener of this daemon ("host:port") carry
        its management token too."""
        if self.token:
            _TOKENS[address] = self.token

    def allow_anonymous(self, rules):
        """Gives the anonymous token (callers without a token, DNS) the ACL
        `rules` (HCL), through the ACL API over the unix socket."""
        r = self.unix_request("PUT", "/v1/acl/policy",
                              body=json.dumps({"Name": "anonymous-" + uuid.uuid4().hex,
                                               "Rules": rules}))
        if r.status == 404:
            return  # no security plugin: everyone may do everything
        assert r.status == 200, r
        policy = r.json()["ID"]
        anon = "00000000-0000-0000-0000-000000000002"
        r = self.unix_request("PUT", f"/v1/acl/token/{anon}",
                              body=json.dumps({"Policies": [{"ID": policy}]}))
        assert r.status == 200, r

    def wait_ready(self, ready_path="/v1/status/leader", timeout=20):
        timeout *= TIME_SCALE
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                self.proc = None
                pytest.fail(f"{self.name} exited with status {rc} before it "
                            f"was ready; stderr:\n{_tail(self.stderr_path)}",
                            pytrace=False)
            try:
                # before the fixture has bootstrapped the ACLs, a route
                # that needs a token answers 403: berthd is serving
                r = requests.get(self.url + ready_path, timeout=2)
                if r.status_code == 200 or (r.status_code in (401, 403)
                                            and ready_path != "/v1/status/leader"):
                    return
                last = f"HTTP {r.status_code} {r.text[:200]!r}"
            except requests.RequestException as e:
                last = repr(e)
            if time.monotonic() > deadline:
                self.kill9()
                pytest.fail(f"{self.name} not ready after {timeout}s "
                            f"(last: {last}); stderr:\n{_tail(self.stderr_path)}",
                            pytrace=False)
            time.sleep(0.05)

    def wait_exit(self, timeout=20):
        """Wait for a process that is expected to exit by itself; return its
        exit status (fail the test if it keeps running)."""
        timeout *= TIME_SCALE
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            pytest.fail(f"{self.name} still running after {timeout}s; "
                        f"stderr:\n{_tail(self.stderr_path)}", pytrace=False)
        self.returncode = rc
        self.proc = None
        return rc

    def send_signal(self, signum):
        assert self.running, f"{self.name} is not running"
        self.proc.send_signal(signum)

    def stop(self, signum=signal.SIGTERM, timeout=15, expect_rc=0):
        """Send `signum` (SIGTERM), wait for the exit and check its status:
        a non-zero status (e.g. a sanitizer report) fails the test."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        timeout *= TIME_SCALE
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            pytest.fail(f"{self.name} did not exit within {timeout}s of "
                        f"signal {signum}; stderr:\n{_tail(self.stderr_path)}",
                        pytrace=False)
        self.returncode = rc
        self.proc = None
        report = sanitizer_report(self.stderr())
        if (report is None and expect_rc is not None and rc != expect_rc
                and LSAN_TOOL_FAILURE in self.stderr()):
            # LeakSanitizer's own tracer crashed while it stopped the
            # threads at exit (it happens when a worker thread is ending
            # just then): the leak check could not run, nothing was found.
            # Say so, loudly, instead of failing the test on the tool.
            warnings.warn(f"{self.name}: LeakSanitizer could not run at exit "
                          f"(its tracer crashed); no leak check for this daemon")
            return rc
        if report:
            pytest.fail(f"{self.name}: sanitizer report: {report}\n"
                        f"{_tail(self.stderr_path)}", pytrace=False)
        if expect_rc is not None and rc != expect_rc:
            pytest.fail(f"{self.name} exited with status {rc} (expected "
                        f"{expect_rc}) after signal {signum}; stderr:\n"
                        f"{_tail(self.stderr_path)}", pytrace=False)
        return rc

    def kill9(self):
        """SIGKILL and reap (simulates a crash / power cut for the process)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.returncode = self.proc.wait()
        self.proc = None

    def restart(self, extra_args=None, wait=True):
        """Stop cleanly if running, then start again on the same state dir
        and port (with the previous arguments unless given)."""
        if self.running:
            self.stop()
        else:
            self.proc = None
        args = self.extra_args if extra_args is None else extra_args
        return self.start(args, wait=wait, http_addr=self.http_addr_arg,
                          ready_path=self.ready_path)

    # -- clients -----------------------------------------------------------

    def consul(self, token=None):
        import consul
        return consul.Consul(host=self.host, port=self.port,
                             token=token if token is not None else self.token)

    def request(self, method, path, timeout=10, **kwargs):
        """requests.request against this daemon's TCP address (with the
        management token unless the request carries its own)."""
        return requests.request(method, self.url + path,
                                timeout=timeout * TIME_SCALE, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def unix_request(self, method, path, body=None, headers=None, timeout=10,
                     socket_path=None):
        """One HTTP request over the unix socket; returns a Reply."""
        conn = _UnixHTTPConnection(socket_path or self.socket, timeout * TIME_SCALE)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, resp.headers, resp.read())
        finally:
            conn.close()

    def raw_request(self, head, body=b"", timeout=10, chunk=65536):
        """Send a hand-made request over TCP.  `head` is the request line and
        headers (bytes, ending with a blank line); `body` is sent in chunks,
        stopping early if the server answers (or closes) before it has read
        everything.  Returns a Reply, or None if the server closed the
        connection without answering."""
        timeout *= TIME_SCALE
        if self.token and b"\r\n" in head and b"x-consul-token" not in head.lower():
            line, rest = head.split(b"\r\n", 1)
            head = line + b"\r\nX-Consul-Token: " + self.token.encode() + b"\r\n" + rest
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(head)
            view = memoryview(body)
            try:
                while view:
                    readable, _, _ = select.select([s], [], [], 0)
                    if readable:
                        break
                    sent = s.send(view[:chunk])
                    view = view[sent:]
            except (BrokenPipeError, ConnectionResetError):
                pass
            resp = http.client.HTTPResponse(s)
            try:
                resp.begin()
            except (http.client.RemoteDisconnected, ConnectionResetError):
                return None
            try:
                data = resp.read()
            except (http.client.IncompleteRead, ConnectionResetError) as e:
                data = getattr(e, "partial", b"")
            return Reply(resp.status, resp.headers, data)


# base address ("host:port") of every started daemon -> its management token
_TOKENS = {}


def _token_for_url(url):
    from urllib.parse import urlsplit
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    return _TOKENS.get(netloc)


_real_session_request = requests.sessions.Session.request


def _session_request_with_token(self, method, url, *args, **kwargs):
    """Tests talk to berthd over TCP with the management token, as an
    operator's configured client would, unless the request carries a token
    (or credentials) of its own."""
    token = _token_for_url(url)
    if token and not args:
        headers = kwargs.get("headers") or {}
        params = kwargs.get("params") or {}
        own = (any(k.lower() in ("x-consul-token", "authorization") for k in headers)
               or "token=" in url or kwargs.get("auth") is not None
               or (isinstance(params, dict) and "token" in params)
               or (isinstance(params, (list, tuple))
                   and any(p[0] == "token" for p in params)))
        if not own:
            kwargs["headers"] = {**headers, "X-Consul-Token": token}
    return _real_session_request(self, method, url, *args, **kwargs)


requests.sessions.Session.request = _session_request_with_token


@pytest.fixture(scope="session")
def berth_env():
    """Paths and settings of the build under test."""
    return SimpleNamespace(
        repo_dir=REPO_DIR, build_dir=BUILD_DIR, sanitized=SANITIZED,
        time_scale=TIME_SCALE, berthd=BERTHD, berth=BERTH_CLI,
        libberth_dir=LIBBERTH_DIR, discovery_plugin=DISCOVERY_PLUGIN,
        child_env=child_env, free_port=free_port)


def _process_mentions(pid, needle):
    """Whether process `pid` runs in, or was started for, a path under
    `needle` (its command line, working directory or MESOS_SANDBOX)."""
    proc = Path("/proc") / pid
    try:
        if needle in (proc / "cmdline").read_bytes().decode(errors="replace"):
            return True
        if os.readlink(proc / "cwd").startswith(needle):
            return True
        env = (proc / "environ").read_bytes().decode(errors="replace")
        return ("MESOS_SANDBOX=" + needle) in env
    except OSError:
        return False


def reap_tasks(state_dir):
    """Ends what a test's berthd left running on purpose: tasks and
    containers outlive the daemon (it adopts them when it starts again),
    so a test that is over must end them itself. Kills every process (and
    its process group) started for `state_dir`, deletes its runc
    containers and unmounts what is mounted under it."""
    needle = str(state_dir)
    me = os.getpid()
    for _ in range(3):
        found = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == me:
                continue
            if not _process_mentions(pid, needle):
                continue
            found = True
            try:
                pgid = os.getpgid(int(pid))
                if pgid != os.getpgid(me):
                    os.killpg(pgid, signal.SIGKILL)
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        if not found:
            break
        time.sleep(0.1)
    oci = Path(state_dir) / "runtime" / "oci"
    if oci.is_dir() and shutil.which("runc"):
        for cid in os.listdir(oci):
            subprocess.run(["runc", "--root", str(oci), "delete", "--force", cid],
                           capture_output=True)
    try:
        with open("/proc/self/mounts") as f:
            targets = [line.split()[1] for line in f]
    except OSError:
        targets = []
    for target in reversed(targets):
        if target.startswith(needle):
            subprocess.run(["umount", "-l", target], capture_output=True)


@pytest.fixture
def berthd_factory(request, tmp_path):
    """make(name=None, start=True, extra_args=(), **Berthd kwargs) -> Berthd.

    Every daemon still running at teardown is stopped with SIGTERM and must
    exit with status 0."""
    instances = []
    request.node._berthd_instances = instances

    def make(name=None, start=True, extra_args=(), http_addr=None, bootstrap=True,
             **kwargs):
        if name is None:
            name = "berthd" if not instances else f"berthd{len(instances) + 1}"
        b = Berthd(tmp_path, name, **kwargs)
        b.bootstrap = bootstrap
        instances.append(b)
        if start:
            b.start(extra_args, http_addr=http_addr)
        return b

    yield make

    errors = []
    for b in instances:
        if b.proc is not None:
            try:
                b.stop()
            except BaseException as e:  # pytest.fail raises BaseException
                errors.append(str(e))
    for b in instances:
        reap_tasks(b.state_dir)
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def berthd(berthd_factory):
    """A running berthd on a fresh state dir and a free port."""
    return berthd_factory()


def _run_cli(args, berthd=None, env=None, input=None, timeout=20):
    if not BERTH_CLI.exists():
        pytest.fail(f"berth is not built: {BERTH_CLI} missing", pytrace=False)
    extra = {}
    if berthd is not None:
        extra["BERTH_HTTP_ADDR"] = berthd.http_addr
        if berthd.token:
            extra["BERTH_TOKEN"] = berthd.token
    extra.update(env or {})
    if isinstance(input, str):
        input = input.encode()
    p = subprocess.run([str(BERTH_CLI), *[str(a) for a in args]],
                       input=input if input is not None else b"",
                       capture_output=True, env=child_env(extra),
                       timeout=timeout * TIME_SCALE)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    report = sanitizer_report(err)
    if report:
        pytest.fail(f"berth {' '.join(map(str, args))}: sanitizer report: "
                    f"{report}\n{err}", pytrace=False)
    return p.returncode, out, err


@pytest.fixture
def run_cli():
    """run_cli(args, berthd=None, env=None, input=None, timeout=20)
    -> (rc, stdout, stderr).  With `berthd`, BERTH_HTTP_ADDR points at it."""
    return _run_cli


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and not getattr(item, "_berthd_logs_reported", False):
        instances = getattr(item, "_berthd_instances", ())
        for b in instances:
            for title, text in b.log_sections():
                rep.sections.append((title, text))
        if instances:
            item._berthd_logs_reported = True
