"""The workers' small parts on their own: session ids, hub frames, the hub and its client."""

from __future__ import annotations

import asyncio
import selectors
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import siox
from siox.adapters.pubsub import MessageHandler
from siox.workers.frames import MSG, PUB, SUB, FrameError, encode, split
from siox.workers.hub import Hub
from siox.workers.ids import ALPHABET, MAX_WORKERS, owner_of, worker_sid
from siox.workers.pubsub import HubPubSub

pytestmark = pytest.mark.timeout(20)


def test_a_session_id_names_its_worker_and_keeps_the_protocol_shape() -> None:
    for index in range(MAX_WORKERS):
        sids = {worker_sid(index) for _ in range(50)}
        assert len(sids) == 50  # random: no two alike
        for sid in sids:
            assert len(sid) == 20 and set(sid) <= set(ALPHABET)
            assert owner_of(sid) == index


def test_ids_of_another_shape_name_no_worker() -> None:
    assert owner_of("") is None
    assert owner_of("A" * 19) is None
    assert owner_of("A" * 21) is None
    assert owner_of("." + "A" * 19) is None


def test_frames_split_whole_and_keep_the_rest() -> None:
    one, two = encode(PUB, b"chan", b"\x00" * 5), encode(SUB, b"p*", b"a", b"b")
    buffer = bytearray(one + two[:7])
    assert split(buffer) == [(PUB, [b"chan", b"\x00" * 5])]
    buffer += two[7:]
    assert split(buffer) == [(SUB, [b"p*", b"a", b"b"])]
    assert buffer == b""


@pytest.mark.parametrize(
    "data",
    [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x00\x00\x00\x03\x03\x00\x09"],
    ids=["empty", "huge", "truncated-item"],
)
def test_a_bad_frame_is_an_error(data: bytes) -> None:
    with pytest.raises(FrameError):
        split(bytearray(data))


class RunningHub:
    """A hub driven by a thread, which can be restarted at the same path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.start()

    def start(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.hub = Hub(self.path, self.selector)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._drive, daemon=True)
        self.thread.start()

    def _drive(self) -> None:
        while not self.stopping.is_set():
            for key, mask in self.selector.select(0.05):
                key.data(mask)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.hub.close(self.path)
        self.selector.close()


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[RunningHub]:
    """A hub of this test's own."""
    running = RunningHub(str(tmp_path / "hub.sock"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def hub(running_hub: RunningHub) -> str:
    """The path of a running hub."""
    return running_hub.path


async def test_the_hub_delivers_like_redis_patterns_channels_and_counts(hub: str) -> None:
    first, second = HubPubSub(hub), HubPubSub(hub)
    got: list[tuple[str, str, bytes]] = []

    def handler(name: str) -> MessageHandler:
        async def handle(channel: str, message: bytes) -> None:
            got.append((name, channel, message))

        return handle

    try:
        await first.subscribe("k#/#*", ["k-request#/#"], handler("first"))
        await second.subscribe("k#/#*", ["other"], handler("second"))
        assert await first.numsub("k-request#/#") == 1
        assert await second.numsub("other") == 1
        await second.publish("k#/#room#", b"\x01binary")
        await second.publish("k-request#/#", b"req")
        await second.publish("nobody", b"lost")
        for _ in range(100):
            if len(got) >= 3:
                break
            await asyncio.sleep(0.02)
        assert sorted(got) == [
            ("first", "k#/#room#", b"\x01binary"),
            ("first", "k-request#/#", b"req"),
            ("second", "k#/#room#", b"\x01binary"),  # the publisher too, as Redis does
        ]
        await first.unsubscribe("k#/#*", ["k-request#/#"])
        assert await second.numsub("k-request#/#") == 0
    finally:
        await first.close()
        await second.close()


async def test_a_link_sending_garbage_is_dropped_and_the_others_go_on(hub: str) -> None:
    good = HubPubSub(hub)
    got: list[bytes] = []

    async def handle(channel: str, message: bytes) -> None:
        got.append(message)

    try:
        await good.subscribe("x*", [], handle)
        reader, writer = await asyncio.open_unix_connection(hub)
        writer.write(b"\x00\x00\x00\x02\x63\x00")  # operation 99
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 2) == b""  # the hub hung up on it
        writer.close()
        await good.publish("xy", b"still here")
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.02)
        assert got == [b"still here"]
    finally:
        await good.close()


def test_msg_frames_carry_the_subscription_key() -> None:
    buffer = bytearray(encode(MSG, b"pk#*", b"k#a", b"m"))
    assert split(buffer) == [(MSG, [b"pk#*", b"k#a", b"m"])]


async def test_a_lost_hub_link_is_made_again_with_its_subscriptions(
    running_hub: RunningHub,
) -> None:
    listener, talker = HubPubSub(running_hub.path), HubPubSub(running_hub.path)
    got: list[bytes] = []

    async def handle(channel: str, message: bytes) -> None:
        got.append(message)

    try:
        await listener.subscribe("a#*", ["a-request"], handle)
        assert await talker.numsub("a-request") == 1
        await asyncio.to_thread(running_hub.stop)
        await asyncio.to_thread(running_hub.start)  # the links are gone: made again
        for _ in range(100):
            try:
                if await talker.numsub("a-request") == 1:
                    break
            except (OSError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
        await talker.publish("a#x", b"after")
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.02)
        assert got == [b"after"]
    finally:
        await listener.close()
        await talker.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "workers must be between 1 and 32"),
        ({"workers": 33}, "workers must be between 1 and 32"),
        ({"workers": 2, "ssl": ssl.create_default_context()}, "terminate TLS in front"),
    ],
)
def test_run_refuses_what_workers_cannot_do(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        siox.run(siox.Server(), port=0, **options)


def test_run_refuses_workers_with_a_custom_generate_id() -> None:
    server = siox.Server(generate_id=lambda request: "x" * 20)
    with pytest.raises(ValueError, match="choose the session ids"):
        siox.run(server, port=0, workers=2)
