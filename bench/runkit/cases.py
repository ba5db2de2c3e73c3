"""The scenarios of bench/run.py and their cases (full and ``--quick``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    """One load of a scenario; the fields are the load generator's config (bench/loadgen)."""

    name: str
    clients: int
    window: int = 1
    payload: str = "small"
    bytes: int = 0
    k: int = 0
    rounds: int = 3
    concurrency: int = 50

    def config(self, scenario: str, timing: Timing) -> dict[str, Any]:
        """The load generator's JSON config for this case (without port and PID)."""
        fields = {key: value for key, value in asdict(self).items() if key != "name"}
        return {"scenario": scenario, **fields, **asdict(timing)}


@dataclass(frozen=True)
class Timing:
    """Seconds of warm-up and of measure per case; the load generator's hard limit."""

    warmS: float
    measureS: float
    timeoutS: float


FULL_TIMING = Timing(warmS=1.0, measureS=3.0, timeoutS=120.0)
QUICK_TIMING = Timing(warmS=0.3, measureS=1.0, timeoutS=30.0)

SCENARIOS: dict[str, str] = {
    "echo": "WebSocket clients, each keeping W acked 'echo' events in flight (acks/s, emit to ack)",
    "binary": "WebSocket echo-with-ack of one binary attachment (MiB/s of acked payload, one way)",
    "fanout": "N WebSocket clients in room 'all'; one asks for K 'm' to the room (deliveries/s)",
    "connect": "N WebSocket connections, handshake + Socket.IO CONNECT (connects/s, RSS/conn)",
    "polling": "HTTP long-polling clients (never upgrade), W acked 'echo' in flight (acks/s)",
}

FULL: dict[str, list[Case]] = {
    "echo": [
        Case("c1 w1", clients=1, window=1),
        Case("c100 w10", clients=100, window=10),
        Case("c100 w10 1KiB", clients=100, window=10, payload="1k"),
        Case("c1000 w1", clients=1000, window=1, concurrency=100),
    ],
    "binary": [Case("c10 w4 64KiB", clients=10, window=4, bytes=65536)],
    "fanout": [
        Case("n1000 k20", clients=1000, k=20, concurrency=100),
        Case("n100 k200", clients=100, k=200),
    ],
    "connect": [Case("n2000", clients=2000, concurrency=100)],
    "polling": [Case("c50 w4", clients=50, window=4)],
}

QUICK: dict[str, list[Case]] = {
    "echo": [Case("c10 w4", clients=10, window=4)],
    "binary": [Case("c4 w2 16KiB", clients=4, window=2, bytes=16384)],
    "fanout": [Case("n100 k20", clients=100, k=20, rounds=2)],
    "connect": [Case("n200", clients=200)],
    "polling": [Case("c10 w2", clients=10, window=2)],
}
