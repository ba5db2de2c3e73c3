"""`MetricsObserver`: the counters a server feeds as things happen (``siox[metrics]``).

Counters and the ack-latency histogram are updated by the server's observer hooks; the gauges
(connections, namespaces, sockets, rooms) are read from the server when Prometheus scrapes
(`ServerCollector`), so they cost nothing between scrapes. Labels stay bounded: events and bytes
are counted by namespace (never by event name), and past ``max_namespaces`` distinct names
(dynamic namespaces can be many) further ones are counted as ``"other"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ..server.observer import ServerObserver

if TYPE_CHECKING:
    from ..errors import ProtocolError
    from ..server.engine_api import EngineConnection
    from ..server.namespace import Namespace
    from ..server.runner import ErrorContext
    from ..server.server import Server
    from ..server.socket import Socket

__all__ = ["MetricsObserver", "ServerCollector"]

#: The reference's names of the Engine.IO error codes (the ``reason`` of refused requests).
REFUSALS = {
    0: "Transport unknown",
    1: "Session ID unknown",
    2: "Bad handshake method",
    3: "Bad request",
    4: "Forbidden",
    5: "Unsupported protocol version",
}
#: Ack latency buckets, seconds.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW_CONSUMER = "slow consumer"


def namespace_of(message: str) -> str:
    """The namespace of an encoded Socket.IO text packet (``"/"`` when it names none)."""
    i = 1
    if message[:1] in ("5", "6"):  # binary event or ack: the attachment count and "-" first
        dash = message.find("-", 1)
        if dash != -1:
            i = dash + 1
    if message[i : i + 1] != "/":
        return "/"
    comma = message.find(",", i)
    return message[i:comma] if comma != -1 else message[i:]


class MetricsObserver(ServerObserver):
    """The event-driven half of siox's metrics, registered in ``registry``.

    Args:
        sio: the server.
        registry: where the metrics are registered.
        prefix: the metric name prefix (``"siox"``).
        max_namespaces: distinct namespace labels before the rest count as ``"other"``.
    """

    def __init__(
        self, sio: Server, registry: CollectorRegistry, *, prefix: str, max_namespaces: int
    ) -> None:
        self.sio = sio
        self.max_namespaces = max_namespaces
        self._labels: set[str] = set()
        self._last_nsp: dict[str, str] = {}
        self.opened = Counter(
            f"{prefix}_connections_opened",
            "Engine.IO sessions opened, by first transport and Engine.IO protocol",
            ["transport", "protocol"],
            registry=registry,
        )
        self.closed = Counter(
            f"{prefix}_connections_closed",
            "Engine.IO sessions closed, by reason",
            ["reason"],
            registry=registry,
        )
        self.slow_consumers = Counter(
            f"{prefix}_slow_consumer_drops",
            "Sessions closed because their outgoing buffer overflowed (max_buffer_size)",
            registry=registry,
        )
        self.refused = Counter(
            f"{prefix}_requests_refused",
            "Requests the Engine.IO layer refused (handshakes, unknown sessions), by reason",
            ["reason"],
            registry=registry,
        )
        #: the hot counters, as plain tallies by namespace label (no lock, no label lookup per
        #: message): `ServerCollector` exposes them as counters at each scrape
        self.events_in: dict[str, int] = {}
        self.events_out: dict[str, int] = {}
        self.bytes_in: dict[str, int] = {}
        self.bytes_out: dict[str, int] = {}
        self.ack_latency = Histogram(
            f"{prefix}_ack_latency_seconds",
            "Time from an emit with ack to the client's acknowledgement, by namespace",
            ["namespace"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.handler_errors = Counter(
            f"{prefix}_handler_errors",
            "Exceptions raised by application handlers, by namespace",
            ["namespace"],
            registry=registry,
        )
        self._children: dict[tuple[int, str], Any] = {}

    def label(self, namespace: str | None) -> str:
        """The label of ``namespace`` (bounded: ``"other"`` past ``max_namespaces``)."""
        if namespace is None:
            return "unknown"
        if namespace in self._labels:
            return namespace
        if len(self._labels) < self.max_namespaces:
            self._labels.add(namespace)
            return namespace
        return "other"

    def _child(self, metric: Any, namespace: str | None) -> Any:
        key = (id(metric), namespace or "")
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.label(namespace))
        return child

    # -- connections ------------------------------------------------------------------------------

    def connection_opened(self, conn: EngineConnection) -> None:
        """Count it."""
        self.opened.labels(conn.transport, str(conn.eio)).inc()

    def connection_closed(self, conn: EngineConnection, reason: str) -> None:
        """Count it; a slow consumer too."""
        self._last_nsp.pop(conn.sid, None)
        self.closed.labels(reason).inc()
        description = getattr(conn, "close_description", None)
        if reason == SLOW_CONSUMER or (description is not None and SLOW_CONSUMER in description):
            self.slow_consumers.inc()

    def request_refused(self, error: ProtocolError) -> None:
        """Count it by the reference's reason."""
        reason = REFUSALS.get(error.eio_error) if error.eio_error is not None else None
        self.refused.labels(reason or f"HTTP {error.http_status}").inc()

    # -- bytes ------------------------------------------------------------------------------------

    def _namespace(self, conn: EngineConnection, message: str | bytes) -> str:
        if isinstance(message, str):
            name = self._last_nsp[conn.sid] = namespace_of(message)
            return name
        # a binary attachment belongs to the packet before it (msgpack: no text packet at all)
        return self._last_nsp.get(conn.sid, "unknown")

    def _tally(self, tally: dict[str, int], namespace: str, count: int) -> None:
        if namespace in tally:
            tally[namespace] += count
        else:
            label = self.label(namespace)
            if label == namespace:
                tally[namespace] = count
            else:  # "other": counted under the name it stands for, merged at scrape
                tally[label] = tally.get(label, 0) + count

    def message_received(self, conn: EngineConnection, data: str | bytes) -> None:
        """Count its bytes under its namespace."""
        size = len(data) if isinstance(data, bytes) else len(data.encode())
        self._tally(self.bytes_in, self._namespace(conn, data), size)

    def messages_sent(self, conn: EngineConnection, messages: list[str | bytes]) -> None:
        """Count their bytes under their namespaces."""
        for message in messages:
            size = len(message) if isinstance(message, bytes) else len(message.encode())
            self._tally(self.bytes_out, self._namespace(conn, message), size)

    # -- events, acks, errors ---------------------------------------------------------------------

    def watch_namespace(self, namespace: Namespace) -> None:
        """Count the events of ``namespace`` (its catch-all listeners, once per list)."""
        if self._received not in namespace.any_listeners:
            namespace.any_listeners.append(self._received)
        if self._sent not in namespace.any_outgoing_listeners:
            namespace.any_outgoing_listeners.append(self._sent)

    def _received(self, socket: Socket, *args: Any) -> None:
        self._tally(self.events_in, socket.nsp, 1)

    def _sent(self, socket: Socket, *args: Any) -> None:
        self._tally(self.events_out, socket.nsp, 1)

    def ack_received(self, socket: Socket, seconds: float) -> None:
        """Observe the latency."""
        self._child(self.ack_latency, socket.nsp).observe(seconds)

    def handler_error(self, exc: BaseException, context: ErrorContext) -> None:
        """Count it."""
        self._child(self.handler_errors, context.namespace).inc()


class ServerCollector(Collector):
    """The gauges, read from the server at each scrape, and the tallied counters."""

    def __init__(self, sio: Server, observer: MetricsObserver, prefix: str) -> None:
        self.sio = sio
        self.observer = observer
        self.prefix = prefix

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Connections by transport and protocol; namespaces; sockets and rooms by namespace."""
        prefix = self.prefix
        connections = GaugeMetricFamily(
            f"{prefix}_connections",
            "Engine.IO sessions open now, by transport and Engine.IO protocol",
            labels=["transport", "protocol"],
        )
        counts: dict[tuple[str, str], int] = {}
        for session in list(self.sio.engine.sessions.values()):
            key = (session.transport, str(session.eio))
            counts[key] = counts.get(key, 0) + 1
        for (transport, protocol), count in sorted(counts.items()):
            connections.add_metric([transport, protocol], count)
        yield connections
        queued = [
            session.core.buffered_amount for session in list(self.sio.engine.sessions.values())
        ]
        yield GaugeMetricFamily(
            f"{prefix}_outgoing_buffered_bytes",
            "Bytes queued for clients, not yet handed to their transport (all connections)",
            value=sum(queued),
        )
        yield GaugeMetricFamily(
            f"{prefix}_outgoing_buffered_bytes_max",
            "Bytes queued for the one connection with the most waiting",
            value=max(queued, default=0),
        )
        namespaces = list(self.sio.namespaces.values())
        yield GaugeMetricFamily(f"{prefix}_namespaces", "Namespaces", value=len(namespaces))
        sockets = GaugeMetricFamily(
            f"{prefix}_sockets",
            "Sockets connected to this server, by namespace",
            labels=["namespace"],
        )
        rooms = GaugeMetricFamily(
            f"{prefix}_rooms",
            "Rooms on this server (not counting each socket's own), by namespace",
            labels=["namespace"],
        )
        per_label: dict[str, tuple[int, int]] = {}
        for namespace in namespaces:
            index = namespace.local_sockets.rooms
            named = len(index.rooms().keys() - index.sids())
            label = self.observer.label(namespace.name)
            had = per_label.get(label, (0, 0))
            per_label[label] = (had[0] + len(namespace.sockets), had[1] + named)
        for label, (socket_count, room_count) in sorted(per_label.items()):
            sockets.add_metric([label], socket_count)
            rooms.add_metric([label], room_count)
        yield sockets
        yield rooms
        observer = self.observer
        for name, what, tally in (
            ("events_received", "Events received, by namespace", observer.events_in),
            (
                "events_sent",
                "Events sent (a broadcast counts once per recipient), by namespace",
                observer.events_out,
            ),
            (
                "bytes_received",
                "Engine.IO message bytes received, by namespace",
                observer.bytes_in,
            ),
            ("bytes_sent", "Engine.IO message bytes sent, by namespace", observer.bytes_out),
        ):
            family = CounterMetricFamily(f"{prefix}_{name}", what, labels=["namespace"])
            for label, count in sorted(tally.copy().items()):
                family.add_metric([label], count)
            yield family
