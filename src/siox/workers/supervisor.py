"""The supervisor: forks the workers, keeps them running, and runs the local pub/sub hub.

Workers are forked (not spawned): each inherits the app object as built, so whatever the
application registered before ``run`` (handlers, namespaces, middlewares) needs no importable
path, and the listening socket, bound once here, is shared by inheritance (one accept queue:
a connection waiting in it survives the death of any worker). The supervisor itself runs no
event loop and no thread, only a `selectors` loop, so it stays safe to fork replacements from.

Signals: SIGTERM or SIGINT drains every worker (each stops accepting, closes its sessions with
"server shutting down", waits up to the shutdown timeout); SIGHUP replaces the workers one at
a time. A worker that dies is forked again at once (after a short back-off when it dies right
after starting), with the same index: the sessions of the dead one are unknown to it.

Each slot has two banks of session-id indexes (slot ``i`` is index ``i`` or ``i + count``), so
a replacement during a SIGHUP never answers for its predecessor's sessions while both live. As
soon as the first replacement serves, every old worker stops accepting connections (SIGUSR1):
old sessions still reach their owner through handoffs, but new sessions start on new workers
only, so each client reconnects at most once during the whole roll.
"""

from __future__ import annotations

import logging
import os
import selectors
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field

from .hub import Hub
from .worker import WorkerConfig, worker_main

__all__ = ["Supervisor", "bind", "make_rundir", "remove_rundir"]

logger = logging.getLogger("siox.workers")

_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD, signal.SIGUSR1)
_FAST_DEATH = 1.0  # a worker dying sooner than this after its start is restarted after a pause


@dataclass
class _Slot:
    slot: int
    count: int
    bank: int = 0
    pid: int = 0
    replacing: int = 0  # the predecessor drained once this worker serves (SIGHUP)
    ready_fd: int = -1
    ready: bool = False
    started: float = 0.0
    retiring: list[int] = field(default_factory=list)  # pids told to drain (SIGHUP)
    respawn_at: float = 0.0  # when a worker that died young is forked again

    @property
    def index(self) -> int:
        """The index this slot's session ids carry now."""
        return self.slot + self.bank * self.count


class Supervisor:
    """Runs ``config.count`` workers until told to stop.

    Args:
        config: what the workers serve.
        kill_timeout: seconds after a drain was asked for before workers still alive are
            killed.
    """

    def __init__(self, config: WorkerConfig, kill_timeout: float) -> None:
        self.config = config
        self.kill_timeout = kill_timeout
        self.selector = selectors.DefaultSelector()
        self.slots = [_Slot(index, config.count) for index in range(config.count)]
        self.stopping: float | None = None
        self.rolling: list[int] = []  # slots still to replace (SIGHUP)
        self.hub = Hub(config.hub_path, self.selector)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, self._woken)
        self._pending: list[int] = []

    # -- signals ----------------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        self._pending.append(signum)

    def _woken(self, mask: int) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass
        pending, self._pending = self._pending, []
        for signum in pending:
            if signum in (signal.SIGTERM, signal.SIGINT):
                self.stop()
            elif signum == signal.SIGHUP and self.stopping is None:
                logger.info("siox workers: SIGHUP, replacing the workers one at a time")
                self.rolling = [slot.slot for slot in self.slots]
                self._roll()

    def stop(self) -> None:
        """Drain every worker (SIGTERM to each); the loop ends when they are all gone."""
        if self.stopping is not None:
            return
        self.stopping = time.monotonic()
        self.rolling = []
        for pid in self._pids():
            self._kill(pid, signal.SIGTERM)

    # -- workers ----------------------------------------------------------------------------------

    def _pids(self) -> list[int]:
        return [
            pid for slot in self.slots for pid in (slot.pid, slot.replacing, *slot.retiring) if pid
        ]

    def _kill(self, pid: int, signum: int) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    def _spawn(self, slot: _Slot) -> None:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                self._become_worker(ready_r)
                worker_main(self.config, slot.index, slot.slot, ready_w)
                code = 0
            except BaseException:
                logger.exception("siox workers: worker %d failed", slot.index)
            finally:
                os._exit(code)
        os.close(ready_w)
        os.set_blocking(ready_r, False)
        slot.pid, slot.ready_fd, slot.ready, slot.started = pid, ready_r, False, time.monotonic()
        self.selector.register(ready_r, selectors.EVENT_READ, lambda m: self._ready(slot, ready_r))

    def _become_worker(self, ready_r: int) -> None:
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a hangup of the group is ours to handle
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # until the worker's loop handles it
        signal.set_wakeup_fd(-1)
        fds = [ready_r, self._wake_r, self._wake_w, *self.hub.fds()]
        fds += [slot.ready_fd for slot in self.slots if slot.ready_fd >= 0]
        self.selector.close()
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def _ready(self, slot: _Slot, fd: int) -> None:
        try:
            data = os.read(fd, 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self.selector.unregister(fd)
        os.close(fd)
        if slot.ready_fd == fd:
            slot.ready_fd = -1
            slot.ready = bool(data)
        if slot.ready:
            logger.info("siox workers: worker %d (pid %d) serving", slot.index, slot.pid)
            if slot.replacing:
                for other in self.slots:  # not replaced yet: new sessions go to new workers
                    if other.slot in self.rolling and other.pid:
                        self._kill(other.pid, signal.SIGUSR1)
                slot.retiring.append(slot.replacing)
                self._kill(slot.replacing, signal.SIGTERM)
                slot.replacing = 0
            self._roll()

    def _roll(self) -> None:
        """Replace the next slot of a SIGHUP once every slot is serving."""
        if not self.rolling or not all(slot.ready for slot in self.slots):
            return
        slot = self.slots[self.rolling.pop(0)]
        slot.replacing, slot.pid = slot.pid, 0
        slot.bank ^= 1
        self._spawn(slot)

    def _reap(self) -> None:
        if any(signum in (signal.SIGTERM, signal.SIGINT) for signum in self._pending):
            self.stop()  # a group-wide signal: the workers may have exited before we heard it
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for slot in self.slots:
                if pid in slot.retiring:
                    slot.retiring.remove(pid)
                elif pid == slot.replacing:
                    slot.replacing = 0
                elif pid == slot.pid:
                    slot.pid = 0
                    slot.ready = False
                    if slot.ready_fd >= 0:
                        self.selector.unregister(slot.ready_fd)
                        os.close(slot.ready_fd)
                        slot.ready_fd = -1
                    if self.stopping is None:
                        logger.warning(
                            "siox workers: worker %d (pid %d) exited (%d); replacing it",
                            slot.index, pid, os.waitstatus_to_exitcode(status),
                        )  # fmt: skip
                        now = time.monotonic()
                        young = now - slot.started < _FAST_DEATH
                        slot.respawn_at = now + _FAST_DEATH if young else now

    def _respawn(self) -> None:
        if self.stopping is None:
            for slot in self.slots:
                if not slot.pid and slot.respawn_at and time.monotonic() >= slot.respawn_at:
                    slot.respawn_at = 0.0
                    self._spawn(slot)

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Start the workers and supervise them until they all exited after a stop."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in _SIGNALS}
        old_wakeup = signal.set_wakeup_fd(self._wake_w)
        try:
            for slot in self.slots:
                self._spawn(slot)
            while True:
                for key, mask in self.selector.select(timeout=0.5):
                    key.data(mask)
                self._reap()
                self._respawn()
                if self.stopping is not None:
                    if not self._pids():
                        break
                    if time.monotonic() - self.stopping > self.kill_timeout:
                        for pid in self._pids():
                            self._kill(pid, signal.SIGKILL)
        finally:
            for pid in self._pids():
                self._kill(pid, signal.SIGKILL)
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.hub.close(self.config.hub_path)
            self.selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)


def make_rundir() -> str:
    """A private directory (mode 0700) for the hub's and the workers' Unix sockets."""
    return tempfile.mkdtemp(prefix="siox-workers-")


def remove_rundir(path: str) -> None:
    """Remove the directory made by `make_rundir`."""
    shutil.rmtree(path, ignore_errors=True)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker shares."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048, reuse_port=False)
    sock.setblocking(False)
    return sock
