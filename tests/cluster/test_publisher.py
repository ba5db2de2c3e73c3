"""The ordered publisher: a node's messages leave in order, batched, without a wait per message.

Its sender here is an in-memory bus that records each batch (and can be told to fail or to
take a while); the Redis one is exercised by every other cluster test.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from siox.adapters.pubsub import OrderedPublisher


class Bus:
    """Records the batches it is sent; ``fail`` makes the next batch raise."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[tuple[str, bytes]]] = []
        self.delay = delay
        self.fail = False

    async def send(self, batch: list[tuple[str, bytes]]) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            self.fail = False
            raise ConnectionError("the bus is down")
        self.batches.append(batch)

    def messages(self) -> list[bytes]:
        return [message for batch in self.batches for _, message in batch]


async def test_a_burst_goes_out_in_order_in_few_batches_without_waiting_per_message() -> None:
    bus = Bus(delay=0.01)
    publisher = OrderedPublisher[bytes](bus.send)
    loop = asyncio.get_running_loop()
    steps = 0

    def step() -> None:  # counts the event loop's turns while the burst is made
        nonlocal steps
        steps += 1

    loop.call_soon(step)
    for number in range(500):
        await publisher.publish("c", str(number).encode())
    assert steps == 0  # the burst did not yield to the loop once
    await publisher.flush(5)
    assert bus.messages() == [str(n).encode() for n in range(500)]
    assert len(bus.batches) <= 2  # the first message alone, then the rest together


async def test_messages_put_while_a_batch_is_in_flight_follow_it() -> None:
    bus = Bus(delay=0.02)
    publisher = OrderedPublisher[bytes](bus.send)
    publisher.put("c", b"1")
    await asyncio.sleep(0.005)  # the first batch is being sent
    publisher.put("c", b"2")
    publisher.put("d", b"3")
    await publisher.flush(5)
    assert bus.batches == [[("c", b"1")], [("c", b"2"), ("d", b"3")]]


async def test_a_failed_batch_is_logged_and_the_next_ones_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = Bus()
    bus.fail = True
    publisher = OrderedPublisher[bytes](bus.send)
    with caplog.at_level(logging.WARNING, "siox.cluster"):
        publisher.put("c", b"lost")
        await publisher.flush(5)
        publisher.put("c", b"kept")
        await publisher.flush(5)
    assert bus.messages() == [b"kept"]
    assert any("1 messages not published" in r.getMessage() for r in caplog.records)


async def test_publish_waits_at_the_high_water_mark_until_the_queue_drained() -> None:
    bus = Bus(delay=0.02)
    publisher = OrderedPublisher[bytes](bus.send, high_water=3)
    publisher.put("c", b"\x00")
    await asyncio.sleep(0)  # the first message is in flight
    publisher.put("c", b"\x01")
    publisher.put("c", b"\x02")
    await publisher.publish("c", b"\x03")  # the third one waiting: at the mark, it waits
    assert bus.messages() == [b"\x00", b"\x01", b"\x02", b"\x03"]


async def test_flush_gives_up_after_its_timeout() -> None:
    bus = Bus(delay=0.5)
    publisher = OrderedPublisher[bytes](bus.send)
    publisher.put("c", b"slow")
    await publisher.flush(0.05)
    assert bus.batches == []
    await publisher.flush(5)  # (it still goes out)
    assert bus.messages() == [b"slow"]
