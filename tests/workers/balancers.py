"""Debian's haproxy and nginx in front of siox "machines", run from examples/deploy's configs.

`Haproxy` runs ``haproxy -f <config> -db`` in the foreground with the config's addresses given
through the environment (``SIOX_BIND``, ``SIOX_MACHINE_1``, ``SIOX_MACHINE_2``: the configs read
them), so the committed file is exactly what runs. `Nginx` renders those same names in its
config (nginx reads no environment) and includes it in a main config of its own. Both are
ended by their PID only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self, TypeVar

import pytest

import siox
from interop.server_process import free_port
from workers.procs import HOST, WorkersServer, node_clients, terminate

DEPLOY_DIR = Path(__file__).resolve().parent.parent.parent / "examples" / "deploy"
WAIT = 10.0


class Balancer:
    """A balancer process in front of ``machines`` (ports), listening on a free port."""

    def __init__(self, machines: list[int]) -> None:
        self.machines = machines
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="siox-balancer-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The command line (with the environment from `environment`)."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """The variables the config reads: where to listen, the machines' addresses."""
        machines = {
            f"SIOX_MACHINE_{n}": f"{HOST}:{port}" for n, port in enumerate(self.machines, 1)
        }
        return {**os.environ, "SIOX_BIND": f"{HOST}:{self.port}", **machines}

    def start(self) -> Self:
        """Start it and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.environment(),
            )  # fmt: skip
        try:
            self._wait_listening()
        except BaseException:
            self.stop()  # by PID; its log too
            raise
        return self

    def _wait_listening(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + WAIT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the balancer exited:\n{self.output()}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the balancer does not listen:\n{self.output()}") from None
                time.sleep(0.05)

    def output(self) -> str:
        """What the balancer printed."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit (by PID)."""
        terminate(self.process)
        self.log.unlink(missing_ok=True)


class Haproxy(Balancer):
    """``haproxy -db -f examples/deploy/haproxy/<config>``."""

    def __init__(self, config: str, machines: list[int]) -> None:
        super().__init__(machines)
        self.config = DEPLOY_DIR / "haproxy" / config

    def command(self) -> list[str]:
        """Foreground (``-db``), the committed config as is."""
        return [haproxy_binary() or "haproxy", "-db", "-f", str(self.config)]


class Nginx(Balancer):
    """Debian's nginx with examples/deploy/nginx/<config> rendered with the test's addresses.

    The committed file is an ``http { }`` include; a main config of the test's own (in a
    temporary folder: pid, temp paths, errors to stderr) includes it.
    """

    def __init__(self, config: str, machines: list[int]) -> None:
        super().__init__(machines)
        self.config = DEPLOY_DIR / "nginx" / config
        self.prefix = Path(tempfile.mkdtemp(prefix="siox-nginx-"))
        self.prefix.chmod(0o755)  # nginx's workers (another user) make their temp files here

    def command(self) -> list[str]:
        """Render the config (``${SIOX_...}`` only, as envsubst would) and run nginx in front."""
        values = self.environment()
        rendered = re.sub(
            r"\$\{(SIOX_\w+)\}", lambda match: values[match[1]], self.config.read_text()
        )
        (self.prefix / "siox.conf").write_text(rendered)
        temp = " ".join(
            f"{kind}_temp_path {self.prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main = (
            f"daemon off;\nworker_processes 1;\npid {self.prefix / 'nginx.pid'};\n"
            "error_log stderr warn;\nevents { worker_connections 1024; }\n"
            f"http {{ access_log off; {temp} include {self.prefix / 'siox.conf'}; }}\n"
        )
        (self.prefix / "nginx.conf").write_text(main)
        binary = nginx_binary() or "nginx"
        return [
            binary,
            "-e",
            "stderr",
            "-p",
            str(self.prefix),
            "-c",
            str(self.prefix / "nginx.conf"),
        ]

    def stop(self) -> None:
        """Stop it (by PID) and remove its folder."""
        super().stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


def nginx_binary() -> str | None:
    """Debian's nginx (in /usr/sbin, which may not be on PATH), or None."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def haproxy_binary() -> str | None:
    """Debian's haproxy (in /usr/sbin, which may not be on PATH), or None."""
    found = shutil.which("haproxy")
    if found is None and os.access("/usr/sbin/haproxy", os.X_OK):
        found = "/usr/sbin/haproxy"
    return found


def balancer_marks(binary: str | None, name: str) -> list[pytest.MarkDecorator]:
    """The marks of a balancer's test module: a 90 s cap, interop, Node and ``binary`` needed."""
    return [
        pytest.mark.timeout(90),
        pytest.mark.interop,
        pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js"),
        pytest.mark.skipif(
            binary is None, reason=f"needs Debian's {name} (scripts/install installs it)"
        ),
    ]


AnyBalancer = TypeVar("AnyBalancer", bound=Balancer)


@contextlib.contextmanager
def standalone_machines_behind(
    make: Callable[[list[int]], AnyBalancer],
) -> Iterator[tuple[AnyBalancer, list[WorkersServer], list[set[int]]]]:
    """Two ``workers=2`` machines that know nothing of each other (no Redis) behind a balancer.

    Yields the balancer (``make(ports)``, started), the machines and each machine's worker PIDs.
    """
    machines = [WorkersServer(2).start(), WorkersServer(2).start()]
    try:
        asyncio.run(wait_cluster(machines, 2))
        pids = [{item["pid"] for item in asyncio.run(machine.stats())} for machine in machines]
        balancer = make([machine.port for machine in machines]).start()
        try:
            yield balancer, machines, pids
        finally:
            balancer.stop()
    finally:
        for machine in machines:
            machine.stop()


async def stats_or_none(server: WorkersServer) -> list[dict[str, Any]]:
    """The workers' counters, or [] while they do not answer."""
    try:
        return await server.stats()
    except Exception:
        return []


async def wait_cluster(machines: list[WorkersServer], workers: int) -> None:
    """Wait until every machine sees ``workers`` workers (all machines' over Redis)."""
    for machine in machines:
        deadline = time.monotonic() + 15
        while len(found := await stats_or_none(machine)) < workers:
            assert time.monotonic() < deadline, (found, machine.output())
            await asyncio.sleep(0.2)


def clients_scenario(url: str, scenario: str, clients: int, cookies: bool) -> Any:
    """Run a scenario of tests/node/balancer_clients.js; its result (raises on its error)."""
    args = [url, scenario, str(clients), *(["cookies"] if cookies else [])]
    return node_clients("balancer_clients.js", *args)


async def echoes(url: str, transports: list[str], count: int) -> str | None:
    """siox's client: connect through ``url``, ``count`` echo round trips; its transport."""
    client = siox.Client(url, transports=transports, reconnection=False)
    namespace = client.socket("/")
    try:
        await namespace.connect(timeout=5)
        if "websocket" in transports:
            for _ in range(100):  # the upgrade, if it happens, is quick on loopback
                if client.transport == "websocket":
                    break
                await asyncio.sleep(0.02)
        for i in range(count):
            assert await namespace.emit_with_ack("echo", i, timeout=5) == i
        return client.transport
    finally:
        await client.close()
