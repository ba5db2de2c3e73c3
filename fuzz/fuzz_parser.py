r"""Fuzz the default Socket.IO parser (protocol 5 and 4, both JSON backends) and revision 1.

Every input must decode to packets or raise `siox.errors.ProtocolError` (``rev1.decode`` must
return a packet, never raise); a packet that decodes must encode again and decode to the same
packet. Anything else (another exception, a hang) is a bug.

With atheris installed (``pip install atheris``, Python 3.11)::

    .venv/bin/python fuzz/fuzz_parser.py -atheris_runs=5000000

Without it, a loop of seeded mutations over valid encodings and random text runs instead::

    .venv/bin/python fuzz/fuzz_parser.py --runs 5000000 [--seed 1]

The loop prints how many inputs it ran and how many decoded; run several seeds on several cores.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from siox.errors import ProtocolError
from siox.parser import Decoder, Packet, PacketType, Parser, rev1

PARSERS = [
    Parser(protocol=5, json="orjson"),
    Parser(protocol=5, json="stdlib"),
    Parser(protocol=4, json="orjson"),
]
SEEDS = [
    "0",
    '0{"token":"abc"}',
    '0/admin,{"sid":"x"}',
    "1/admin,",
    '2["event",1,"two",{"a":[true,null,1.5]}]',
    '2/chat,12["msg",{"t":"hi"}]',
    '312["ok"]',
    '4{"message":"nope","data":{"x":1}}',
    '51-["up",{"_placeholder":true,"num":0}]',
    '62-/a,7[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
    '2["é€😀","\\ud83d\\ude00"]',
]
TOKENS = [
    "[",
    "]",
    "{",
    "}",
    '"',
    ",",
    ":",
    "-",
    "/",
    "0",
    "9",
    "_placeholder",
    "num",
    "true",
    "null",
    "\\u",
    " ",
    "\x00",
    "2",
    "45",
    "1e400",
    "-0",
]


def mutate(text: str, rng: random.Random) -> str:
    """One cheap random edit of ``text``."""
    choice = rng.randrange(6)
    if not text or choice == 0:
        return text + rng.choice(TOKENS)
    at = rng.randrange(len(text) + 1)
    if choice == 1:
        return text[:at] + rng.choice(TOKENS) + text[at:]
    if choice == 2:
        return text[:at] + text[at + 1 :]
    if choice == 3:
        return text[:at]
    if choice == 4:
        return text[:at] + chr(rng.randrange(0x110000)) + text[at:]
    return text[:at] + text[at:] * 2


def check(text: str, binary: list[bytes]) -> bool:
    """Run every decoder over ``text`` (then ``binary``); True when something decoded."""
    decoded = False
    for parser in PARSERS:
        decoder = Decoder(parser=parser)
        try:
            packets = decoder.feed(text)
            for chunk in binary:
                packets += decoder.feed(chunk)
        except ProtocolError:
            continue
        for packet in packets:
            decoded = True
            round_trip(parser, packet)
    packet = rev1.decode(text)
    assert isinstance(packet, Packet), packet
    return decoded


def round_trip(parser: Parser, packet: Packet) -> None:
    try:
        frames = parser.encode(packet)
    except (TypeError, ValueError):
        # Decoding is more lenient than encoding where the reference decoder is: packets
        # without a payload (`2`, `31`: the socket layer answers those) and numeric event names.
        numeric_name = (
            packet.type in (PacketType.EVENT, PacketType.BINARY_EVENT)
            and isinstance(packet.data, list)
            and type(packet.data[0]) in (int, float)
        )
        assert packet.data is None or numeric_name, packet
        return
    decoder = Decoder(parser=parser)
    again = [p for frame in frames for p in decoder.feed(frame)]
    assert len(again) == 1, (packet, frames)
    assert repr(again[0].data) == repr(packet.data) or again[0].data == packet.data, packet
    assert (again[0].nsp, again[0].id) == (packet.nsp, packet.id), packet


def atheris_main() -> None:  # pragma: no cover - needs atheris
    import atheris

    def target(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        text = provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 512))
        binary = [provider.ConsumeBytes(16) for _ in range(provider.ConsumeIntInRange(0, 3))]
        check(text, binary)

    from fuzzkit import in_own_chunk, instrument_siox

    instrument_siox()  # coverage of siox's Python code guides the search
    atheris.Setup(sys.argv, target)
    in_own_chunk(atheris.Fuzz)


def loop_main(runs: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    decoded = 0
    for n in range(1, runs + 1):
        text = rng.choice(SEEDS)
        for _ in range(rng.randrange(1, 5)):
            text = mutate(text, rng)
        binary = [rng.randbytes(rng.randrange(8)) for _ in range(rng.randrange(3))]
        decoded += check(text, binary)
        if n % 100_000 == 0:
            print(
                f"{n} inputs, {decoded} decoded, {time.perf_counter() - started:.0f} s", flush=True
            )
    print(f"done: {runs} inputs, {decoded} decoded, no failure", flush=True)


def main() -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--runs", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=0)
        options = parser.parse_args()
        loop_main(options.runs, options.seed)
    else:  # pragma: no cover
        atheris_main()


if __name__ == "__main__":
    main()
