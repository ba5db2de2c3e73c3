"""A real client session against a real server session over an in-memory network.

Deterministic scenarios first (handshake, messages, upgrade with packets in flight, heartbeat,
closes), then hypothesis: random interleavings of deliveries, sends, clock moves, pauses,
closes, lost connections and corrupted wire data, checking the invariants after every step.

`SessionPair` is h11's ConnectionPair idea for Engine.IO: every output of one side becomes a
message in a FIFO channel, and the test (or hypothesis) picks which channel delivers next.
HTTP requests go through `validate_request` and the server session's request methods exactly
as a driver would call them, so the pair exercises the handshake code too. No mocks: both ends
are the real state machines, and the clock is a float the test moves.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from siox.engineio.client_session import ClientEngineSession
from siox.engineio.events import Closed, CloseReason, Event, MessageReceived, Opened, Upgraded
from siox.engineio.handshake import ExistingSession, Transport, new_sid, validate_request
from siox.engineio.machine import TRANSITIONS, SessionCore, State, Trigger
from siox.engineio.outputs import (
    OpenWebSocket,
    PollingResponse,
    PollRequest,
    PostRequest,
    Query,
    WebSocketClose,
    WebSocketSend,
)
from siox.engineio.session import EngineSession
from siox.errors import ProtocolError

CHANNELS = ("get", "get_reply", "post", "post_reply", "ws_open", "c2s", "s2c")


@dataclass
class HttpError:
    """A non-200 answer (what the driver would send for a ProtocolError)."""

    status: int
    exc: ProtocolError


@dataclass
class WsClosed:
    """The WebSocket close handshake reaching the other side."""

    code: int


@dataclass
class Side:
    """What one end saw: its events and the messages it accepted for sending."""

    events: list[Event] = field(default_factory=list)
    sent: list[str | bytes] = field(default_factory=list)

    @property
    def received(self) -> list[str | bytes]:
        return [e.data for e in self.events if isinstance(e, MessageReceived)]

    @property
    def closed(self) -> list[Closed]:
        return [e for e in self.events if isinstance(e, Closed)]


class SessionPair:
    """One client session, the server sessions it creates, and the wire between them."""

    def __init__(
        self,
        *,
        transport: Transport = Transport.POLLING,
        eio: int = 4,
        b64: bool = False,
        client_options: dict[str, Any] | None = None,
        server_options: dict[str, Any] | None = None,
    ) -> None:
        self.now = 1000.0
        self.eio = eio
        self.server_options = {
            "ping_interval": 25.0,
            "ping_timeout": 20.0,
            **(server_options or {}),
        }
        self.sessions: dict[str, EngineSession] = {}
        self.server: EngineSession | None = None
        self.client = ClientEngineSession(
            now=self.now, transport=transport, eio=eio, b64=b64, **(client_options or {})
        )
        self.queues: dict[str, deque[Any]] = {name: deque() for name in CHANNELS}
        self.server_side = Side()
        self.client_side = Side()
        self.http_errors: list[HttpError] = []
        self.pump()

    # -- plumbing -----------------------------------------------------------------------------

    def pump(self) -> None:
        """Move every queued output to its channel and collect every event."""
        for item in self.client.data_to_send():
            if isinstance(item, PollRequest):
                self.queues["get"].append(item.query)
            elif isinstance(item, PostRequest):
                self.queues["post"].append(item)
            elif isinstance(item, OpenWebSocket):
                self.queues["ws_open"].append(item.query)
            elif isinstance(item, WebSocketSend):
                self.queues["c2s"].append(item.frame)
            elif isinstance(item, WebSocketClose):
                self.queues["c2s"].append(WsClosed(item.code))
            else:  # pragma: no cover
                raise AssertionError(f"unexpected client output {item!r}")
        self.client_side.events.extend(self.client.events_received())
        for session in list(self.sessions.values()):
            for item in session.data_to_send():
                if isinstance(item, PollingResponse):
                    self.queues["get_reply"].append(item)
                elif isinstance(item, WebSocketSend):
                    self.queues["s2c"].append(item.frame)
                elif isinstance(item, WebSocketClose):
                    self.queues["s2c"].append(WsClosed(item.code))
                else:  # pragma: no cover
                    raise AssertionError(f"unexpected server output {item!r}")
            events = session.events_received()
            self.server_side.events.extend(events)
            if any(isinstance(e, Closed) for e in events):
                del self.sessions[session.sid]  # the driver forgets closed sessions

    def ready(self) -> list[str]:
        """The channels that have something to deliver."""
        return [name for name in CHANNELS if self.queues[name]]

    def deliver(self, channel: str) -> None:
        """Deliver the oldest item of ``channel``."""
        item = self.queues[channel].popleft()
        getattr(self, f"_deliver_{channel}")(item)
        self.pump()

    def drain(self, limit: int = 10_000) -> None:
        """Deliver until every channel is empty (a held GET is not in a channel)."""
        for _ in range(limit):
            channels = self.ready()
            if not channels:
                return
            self.deliver(channels[0])
        raise AssertionError("the pair did not settle")  # pragma: no cover

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer due on the way, earliest first."""
        target = self.now + seconds
        while True:
            deadlines = [
                d
                for d in (
                    self.client.next_deadline(),
                    *(s.next_deadline() for s in self.sessions.values()),
                )
                if d is not None and d <= target
            ]
            if not deadlines:
                break
            self.now = max(self.now, min(deadlines))
            self.client.handle_timer(self.now)
            for session in list(self.sessions.values()):
                session.handle_timer(self.now)
            self.pump()
        self.now = target

    # -- the application on each side ---------------------------------------------------------

    def client_send(self, data: str | bytes, *, volatile: bool = False) -> bool:
        accepted = self.client.send(data, volatile=volatile)
        if accepted:
            self.client_side.sent.append(data)
        self.pump()
        return accepted

    def server_send(self, data: str | bytes, *, volatile: bool = False) -> bool:
        if self.server is None:
            return False
        accepted = self.server.send(data, volatile=volatile)
        if accepted:
            self.server_side.sent.append(data)
        self.pump()
        return accepted

    # -- delivery, one function per channel -------------------------------------------------------

    def _request(self, method: str, query: Query, *, upgrade: bool) -> Any:
        return validate_request(
            method,
            dict(query),
            {},
            is_websocket_upgrade=upgrade,
            sessions=self.sessions,
            allow_eio3=True,
        )

    def _new_session(self, transport: Transport, b64: bool, eio: int) -> EngineSession:
        session = EngineSession(
            new_sid(), transport=transport, now=self.now, eio=eio, b64=b64, **self.server_options
        )
        self.sessions[session.sid] = session
        self.server = session
        return session

    def _deliver_get(self, query: Query) -> None:
        try:
            decision = self._request("GET", query, upgrade=False)
            if isinstance(decision, ExistingSession):
                decision.session.polling_get(self.now)
            else:
                self._new_session(decision.transport, decision.b64, decision.eio).polling_get(
                    self.now
                )
        except ProtocolError as exc:
            self._http_error("get_reply", exc)

    def _deliver_get_reply(self, item: PollingResponse | HttpError) -> None:
        if isinstance(item, HttpError):
            self.client.transport_closed(Transport.POLLING, self.now)
        else:
            self.client.receive_polling_response(item.body, item.content_type, self.now)

    def _deliver_post(self, item: PostRequest) -> None:
        body = item.body.encode() if isinstance(item.body, str) else item.body
        try:
            decision = self._request("POST", item.query, upgrade=False)
            assert isinstance(decision, ExistingSession)
            reply = decision.session.receive_polling_post(body, item.content_type, self.now)
            assert reply.body == "ok"
            self.queues["post_reply"].append(reply)
        except ProtocolError as exc:
            self._http_error("post_reply", exc)

    def _deliver_post_reply(self, item: PollingResponse | HttpError) -> None:
        if isinstance(item, HttpError):
            self.client.transport_closed(Transport.POLLING, self.now)
        elif not self.client.closed:
            self.client.polling_post_done(self.now)

    def _deliver_ws_open(self, query: Query) -> None:
        try:
            decision = self._request("GET", query, upgrade=True)
            if isinstance(decision, ExistingSession):
                decision.session.attach_websocket(self.now)
            else:
                self._new_session(decision.transport, decision.b64, decision.eio)
        except ProtocolError as exc:
            self.http_errors.append(HttpError(exc.http_status or 400, exc))
            self.client.transport_closed(Transport.WEBSOCKET, self.now)
            return
        self.client.attach_websocket(self.now)

    def _deliver_c2s(self, item: str | bytes | WsClosed) -> None:
        session = self.server
        if session is None or session.closed:
            return
        if isinstance(item, WsClosed):
            session.transport_closed(Transport.WEBSOCKET, self.now)
        else:
            session.receive_ws_frame(item, self.now)

    def _deliver_s2c(self, item: str | bytes | WsClosed) -> None:
        if isinstance(item, WsClosed):
            self.client.transport_closed(Transport.WEBSOCKET, self.now)
        else:
            self.client.receive_ws_frame(item, self.now)

    def _http_error(self, channel: str, exc: ProtocolError) -> None:
        error = HttpError(exc.http_status or 400, exc)
        self.http_errors.append(error)
        self.queues[channel].append(error)


SETUPS = [
    pytest.param(eio, transport, b64, id=f"eio{eio}-{transport.value}{'-b64' if b64 else ''}")
    for eio, transport, b64 in [
        (4, Transport.POLLING, False),
        (4, Transport.WEBSOCKET, False),
        (3, Transport.POLLING, False),
        (3, Transport.POLLING, True),
        (3, Transport.WEBSOCKET, False),
    ]
]


def settle(pair: SessionPair, rounds: int = 5) -> None:
    """Deliver everything, letting paced NOOPs fire, until nothing moves."""
    for _ in range(rounds):
        pair.drain()
        pair.advance(0.15)
    pair.drain()


# -- the transition table -----------------------------------------------------------------------


def test_transition_table_is_exactly_what_the_machine_accepts() -> None:
    core = SessionCore(Transport.POLLING, 4, False, 10.0, 30.0, 1000)
    for state, trigger in itertools.product(State, Trigger):
        core._state = state
        if (state, trigger) in TRANSITIONS:
            core._move(trigger)
            assert core.state is TRANSITIONS[state, trigger]
        else:
            with pytest.raises(RuntimeError, match="siox bug"):
                core._move(trigger)
            assert core.state is state


def test_transition_table_shape() -> None:
    # Every state but CLOSED can close; CLOSED is terminal; OPENING is only left by the
    # handshake or a close.
    for state in State:
        assert ((state, Trigger.CLOSED) in TRANSITIONS) is (state is not State.CLOSED)
    assert not [key for key in TRANSITIONS if key[0] is State.CLOSED]
    assert {t for (s, t) in TRANSITIONS if s is State.OPENING} == {
        Trigger.HANDSHAKE,
        Trigger.CLOSED,
    }
    assert set(TRANSITIONS.values()) == set(State) - {State.OPENING}


def reachable() -> set[tuple[State, State]]:
    edges = {(s, target) for (s, _), target in TRANSITIONS.items()} | {(s, s) for s in State}
    closure = set(edges)
    while True:
        extra = {(a, d) for (a, b) in closure for (c, d) in closure if b is c} - closure
        if not extra:
            return closure
        closure |= extra


REACHABLE = reachable()


# -- deterministic scenarios --------------------------------------------------------------------


@pytest.mark.parametrize(("eio", "transport", "b64"), SETUPS)
def test_handshake_and_messages_both_ways(eio: int, transport: Transport, b64: bool) -> None:
    pair = SessionPair(eio=eio, transport=transport, b64=b64)
    settle(pair)
    assert isinstance(pair.client_side.events[0], Opened)
    assert isinstance(pair.server_side.events[0], Opened)
    assert pair.client.sid == pair.server.sid if pair.server else False
    for i in range(5):
        pair.client_send(f"c{i} é😀")
        pair.client_send(bytes([i, 0, 255]))
        pair.server_send(f"s{i} ü")
        pair.server_send(bytes([255, i]))
        if i % 2:
            pair.deliver(pair.ready()[0]) if pair.ready() else None
    settle(pair)
    assert pair.server_side.received == pair.client_side.sent
    assert pair.client_side.received == pair.server_side.sent
    # a polling session upgrades by itself
    assert pair.client.transport is Transport.WEBSOCKET
    assert pair.server is not None
    assert pair.server.transport is Transport.WEBSOCKET
    assert pair.http_errors == []


@pytest.mark.parametrize("eio", [4, 3])
def test_upgrade_with_messages_in_flight_both_ways(eio: int) -> None:
    # Send at every step of the dance; nothing may be lost, duplicated or reordered.
    for schedule in range(40):
        pair = SessionPair(eio=eio)
        counter = itertools.count()
        step = 0
        while pair.client.transport is Transport.POLLING:
            n = next(counter)
            if (step + schedule) % 3 != 0:
                pair.client_send(f"c{n}")
            if (step * schedule) % 4 != 1:
                pair.server_send(f"s{n}" if n % 2 else bytes([n % 256]))
            channels = pair.ready()
            if channels:
                pair.deliver(channels[(step * 7 + schedule) % len(channels)])
            else:
                pair.advance(0.11)  # a paced NOOP
            step += 1
            assert step < 500
        settle(pair)
        assert pair.server_side.received == pair.client_side.sent
        assert pair.client_side.received == pair.server_side.sent
        assert [e for e in pair.client_side.events if isinstance(e, Upgraded)] == [
            Upgraded(Transport.WEBSOCKET)
        ]
        assert pair.http_errors == []


@pytest.mark.parametrize(("eio", "transport", "b64"), SETUPS)
def test_heartbeat_keeps_an_idle_pair_alive(eio: int, transport: Transport, b64: bool) -> None:
    pair = SessionPair(
        eio=eio,
        transport=transport,
        b64=b64,
        server_options={"ping_interval": 0.3, "ping_timeout": 0.2},
    )
    settle(pair)
    for _ in range(100):
        pair.advance(0.05)
        pair.drain()
    assert pair.client.state is State.OPEN
    assert pair.server is not None
    assert pair.server.state is State.OPEN
    assert not pair.client_side.closed
    assert not pair.server_side.closed


@pytest.mark.parametrize(("eio", "transport", "b64"), SETUPS)
def test_a_silent_network_times_out_both_ends(eio: int, transport: Transport, b64: bool) -> None:
    pair = SessionPair(
        eio=eio,
        transport=transport,
        b64=b64,
        server_options={"ping_interval": 0.3, "ping_timeout": 0.2},
    )
    settle(pair)
    pair.advance(2.0)  # nothing is delivered any more
    assert pair.client_side.closed == [Closed(CloseReason.PING_TIMEOUT)]
    assert pair.server_side.closed == [Closed(CloseReason.PING_TIMEOUT)]


@pytest.mark.parametrize(("eio", "transport", "b64"), SETUPS)
@pytest.mark.parametrize("closer", ["client", "server"])
def test_close_reaches_the_other_side_after_the_queue(
    eio: int, transport: Transport, b64: bool, closer: str
) -> None:
    pair = SessionPair(eio=eio, transport=transport, b64=b64)
    settle(pair)
    assert pair.server is not None
    closer_session = pair.client if closer == "client" else pair.server
    closer_send = pair.client_send if closer == "client" else pair.server_send
    closer_send("queued before the close")
    closer_session.close(now=pair.now)
    pair.pump()
    settle(pair)
    local, remote = (
        (pair.client_side, pair.server_side)
        if closer == "client"
        else (pair.server_side, pair.client_side)
    )
    assert local.closed == [Closed(CloseReason.FORCED_CLOSE)]
    assert remote.closed == [Closed(CloseReason.TRANSPORT_CLOSE)]
    assert remote.received == ["queued before the close"]
    assert pair.sessions == {}


def test_server_shutting_down_reason_travels_to_the_events() -> None:
    pair = SessionPair(transport=Transport.WEBSOCKET)
    settle(pair)
    assert pair.server is not None
    pair.server.close(CloseReason.SERVER_SHUTTING_DOWN, now=pair.now)
    pair.pump()
    settle(pair)
    assert pair.server_side.closed == [Closed(CloseReason.SERVER_SHUTTING_DOWN)]
    assert pair.client_side.closed == [Closed(CloseReason.TRANSPORT_CLOSE)]


def test_post_batches_respect_the_server_limit() -> None:
    pair = SessionPair(
        eio=4, server_options={"max_payload": 100}, client_options={"upgrade": False}
    )
    settle(pair)
    for i in range(30):
        pair.client_send(f"{i:02d}" + "x" * 20)
    settle(pair)
    assert pair.server_side.received == pair.client_side.sent
    assert pair.http_errors == []


# -- hypothesis: random interleavings -----------------------------------------------------------

DELIVERIES = st.lists(st.integers(0, 6), min_size=1, max_size=6)
ACTIONS = st.one_of(
    st.tuples(st.just("client_send"), st.booleans(), st.booleans()),
    st.tuples(st.just("server_send"), st.booleans(), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([0.01, 0.05, 0.11, 0.2])),
    st.tuples(st.just("pause"), st.booleans(), st.booleans()),
)
CORRUPT = st.tuples(
    st.just("corrupt"),
    st.sampled_from(["4x", "2", "3", "1", "5", "2probe", "3probe", "6", "", "x", "b!"])
    | st.text(max_size=8)
    | st.binary(max_size=8),
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a strategy with the given relative weights."""
    total = sum(weight for weight, _ in choices)

    def pick(n: int) -> st.SearchStrategy[Any]:
        for weight, strategy in choices:
            if n < weight:
                return strategy
            n -= weight
        raise AssertionError  # pragma: no cover

    return st.integers(0, total - 1).flatmap(pick)


FAULTY_ACTIONS = weighted(
    (40, ACTIONS),
    (5, CORRUPT),
    (2, st.tuples(st.just("advance"), st.sampled_from([0.5, 1.6, 11.0, 50.0]))),
    (1, st.tuples(st.just("close"), st.booleans())),
    (2, st.tuples(st.just("drop"), st.booleans(), st.sampled_from(list(Transport)))),
)
# Each step: one action, then a few deliveries (channel picked among the ready ones).
OPS = st.tuples(ACTIONS, DELIVERIES)
FAULTS = st.tuples(FAULTY_ACTIONS, DELIVERIES)
SETUP = st.tuples(
    st.sampled_from([3, 4]), st.sampled_from(list(Transport)), st.booleans(), st.booleans()
)


class Checker:
    """Runs operations on a pair and checks the invariants after each one."""

    def __init__(self, setup: tuple[int, Transport, bool, bool]) -> None:
        eio, transport, b64, upgrade = setup
        self.pair = SessionPair(
            eio=eio,
            transport=transport,
            b64=b64,
            client_options={"upgrade": upgrade, "max_buffer_size": 10**9},
            server_options={"ping_interval": 1.0, "ping_timeout": 0.5, "max_buffer_size": 10**9},
        )
        self.counter = itertools.count()
        self.states: dict[int, State] = {}
        self.honest = True
        self.garbage: str | bytes | None = None

    def run(self, step: tuple[tuple[Any, ...], list[int]]) -> None:
        op, deliveries = step
        self.act(op)
        self.pair.pump()
        self.check()
        self.deliver(deliveries)
        if self.honest and op[0] == "pause":
            # Honest peers: a write pause lasts only while this step's deliveries happen (a
            # pause across clock moves is a stalled peer, which may time out: a fault).
            for session in (self.pair.client, self.pair.server):
                if session is not None:
                    session.resume_writing(self.pair.now)
            self.pair.pump()
            self.check()

    def deliver(self, deliveries: list[int]) -> None:
        for index in deliveries:
            channels = self.pair.ready()
            if not channels:
                break
            channel = channels[index % len(channels)]
            if self.garbage is not None:
                queue = self.pair.queues[channel]
                queue[0] = _corrupted(queue[0], self.garbage)
                self.garbage = None
            self.pair.deliver(channel)
            self.check()

    def act(self, op: tuple[Any, ...]) -> None:
        pair = self.pair
        kind = op[0]
        if kind in ("client_send", "server_send"):
            n = next(self.counter)
            data: str | bytes = f"m{n}" if op[1] else n.to_bytes(4, "big")
            (pair.client_send if kind == "client_send" else pair.server_send)(data, volatile=op[2])
        elif kind == "advance":
            pair.advance(op[1])
        elif kind in ("pause", "close", "drop"):
            session = pair.client if op[1] else pair.server
            if session is None:
                return
            if kind == "close":
                session.close(now=pair.now)
            elif kind == "drop":
                session.transport_closed(op[2], pair.now)
            elif op[2]:
                session.pause_writing()
            else:
                session.resume_writing(pair.now)
        elif kind == "corrupt":
            self.honest = False
            self.garbage = op[1]

    def check(self) -> None:
        pair = self.pair
        sessions: list[Any] = [pair.client]
        if pair.server is not None:
            sessions.append(pair.server)
        for session in sessions:
            before = self.states.get(id(session), State.OPENING)
            assert (before, session.state) in REACHABLE, (before, session.state)
            self.states[id(session)] = session.state
        for side in (pair.client_side, pair.server_side):
            closed = side.closed
            assert len(closed) <= 1
            if closed:
                assert side.events[-1] == closed[0]
            if side.events:
                assert isinstance(side.events[0], (Opened, Closed))
        if self.honest:
            # Prefixes: a message is only lost when its session ends, and never reordered.
            sent, received = pair.client_side.sent, pair.server_side.received
            assert received == sent[: len(received)]
            sent, received = pair.server_side.sent, pair.client_side.received
            assert received == sent[: len(received)]


def _corrupted(item: Any, garbage: str | bytes) -> Any:
    if isinstance(item, PostRequest):
        return PostRequest(item.query, garbage, item.content_type)
    if isinstance(item, PollingResponse):
        return PollingResponse(garbage, item.content_type)
    if isinstance(item, (str, bytes)):
        return garbage
    return item


@settings(max_examples=120)
@given(setup=SETUP, ops=st.lists(OPS, min_size=10, max_size=50))
def test_random_interleavings_lose_nothing(
    setup: tuple[int, Transport, bool, bool], ops: list[tuple[Any, ...]]
) -> None:
    checker = Checker(setup)
    for op in ops:
        checker.run(op)
    pair = checker.pair
    for session in (pair.client, pair.server):
        if session is not None:
            session.resume_writing(pair.now)
    pair.pump()
    settle(pair)
    # No faults and clock steps far below the timeouts: everything arrives, in order, once.
    assert pair.server_side.received == pair.client_side.sent
    assert pair.client_side.received == pair.server_side.sent
    assert not pair.client_side.closed
    assert not pair.server_side.closed
    assert pair.http_errors == []


@settings(max_examples=200)
@given(setup=SETUP, ops=st.lists(FAULTS, min_size=10, max_size=50))
def test_random_interleavings_with_faults_keep_the_invariants(
    setup: tuple[int, Transport, bool, bool], ops: list[tuple[Any, ...]]
) -> None:
    checker = Checker(setup)
    for op in ops:
        checker.run(op)
    pair = checker.pair
    for _ in range(2):  # every timer fires (twice: a late handshake opens a session)
        pair.advance(200.0)
        settle(pair)
    assert pair.client.closed
    assert pair.sessions == {}
    assert pair.client.next_deadline() is None
