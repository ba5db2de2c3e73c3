"""An in-memory asyncio transport for driving `siox.server.native.HttpProtocol` without sockets."""

from __future__ import annotations

from typing import Any


class MemoryTransport:
    """Counts what is written and, with ``keep``, keeps each write; closing it is a failure."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        #: bytes written in all
        self.written = 0
        #: each write (``writelines`` joined), when ``keep``
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written += len(data)
        if self.keep:
            self.writes.append(bytes(data))

    def writelines(self, parts: list[bytes]) -> None:
        self.write(b"".join(parts))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        raise AssertionError("closed")
