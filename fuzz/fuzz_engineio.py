r"""Fuzz the Engine.IO decoders: decode_packet and decode_payload, v4 and v3 (text and binary).

Every input must decode to packets or raise `siox.errors.ProtocolError`; anything else (another
exception, a hang) is a bug. Decoded packets must also survive a re-encode/decode round trip.

With atheris installed (``uv sync --group fuzz``, Python 3.11)::

    .venv/bin/python fuzz/fuzz_engineio.py -atheris_runs=5000000      # 5 million inputs

Without atheris, the same target runs under a hypothesis-driven loop: hypothesis draws seed
inputs (random bytes, and valid encodings of both revisions with a few edits), and each seed is
fed as is and as ``--mutants`` cheap random mutations (byte flips, splices of protocol tokens
such as ``\x1e`` ``:`` ``\xff`` ``b4`` and length digits, cuts, duplications)::

    .venv/bin/python fuzz/fuzz_engineio.py --runs 5000000 [--seed 1]   # 5 million inputs

The loop prints how many inputs it ran; run it on several cores with different seeds.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import random
import sys
import time

from siox.engineio import (
    EnginePacket,
    EnginePacketType,
    decode_packet,
    decode_payload,
    encode_packet,
    encode_payload,
)
from siox.errors import ProtocolError

#: How the first byte of an input picks the decoder (and how the rest is read).
MODES = 10
MAX_PAYLOAD = 100_000


def _text(data: bytes) -> str:
    # surrogateescape turns invalid UTF-8 into lone surrogates, which the decoders must refuse
    # or carry through without crashing.
    return data.decode("utf-8", "surrogateescape")


def _check_round_trip(packets: list[EnginePacket], eio: int) -> None:
    if not packets:
        return
    if eio == 4 and any(isinstance(p.data, str) and "\x1e" in p.data for p in packets):
        return  # decode_payload never yields those; a v4 WebSocket frame may
    try:
        body = encode_payload(packets, eio=eio, b64=True)
    except ValueError:
        # Text taken from a str frame may hold lone surrogates: the v3 encoders refuse them.
        assert eio == 3, packets
        return
    again = decode_payload(body, eio=eio, binary=isinstance(body, bytes), max_payload=10**9)
    assert again == packets, (packets, body, again)


def run_one(data: bytes) -> None:
    """Feed one input to the decoder its first byte selects; raise AssertionError on a bug."""
    if not data:
        return
    mode, rest = data[0] % MODES, data[1:]
    try:
        if mode == 0:
            packets = [decode_packet(rest, eio=4)]
            eio = 4
        elif mode == 1:
            packets = [decode_packet(_text(rest), eio=4)]
            eio = 4
        elif mode == 2:
            packets = [decode_packet(rest, eio=3)]
            eio = 3
        elif mode == 3:
            packets = [decode_packet(_text(rest), eio=3)]
            eio = 3
        elif mode == 4:
            packets = decode_payload(_text(rest), eio=4, max_payload=MAX_PAYLOAD)
            eio = 4
        elif mode == 5:
            packets = decode_payload(rest, eio=4, max_payload=MAX_PAYLOAD)
            eio = 4
        elif mode == 6:
            packets = decode_payload(_text(rest), eio=3, max_payload=MAX_PAYLOAD)
            eio = 3
        elif mode == 7:
            packets = decode_payload(rest, eio=3, max_payload=MAX_PAYLOAD)
            eio = 3
        elif mode == 8:
            packets = decode_payload(rest, eio=3, binary=True, max_payload=MAX_PAYLOAD)
            eio = 3
        else:
            packets = decode_payload(_text(rest), eio=3, binary=True, max_payload=MAX_PAYLOAD)
            eio = 3
    except ProtocolError:
        return
    for packet in packets:
        assert isinstance(packet.type, EnginePacketType), packet
        assert isinstance(packet.data, (str, bytes)), packet
        assert isinstance(packet.data, str) or packet.type is EnginePacketType.MESSAGE, packet
        encode_packet(packet, eio=eio)
    _check_round_trip(packets, eio)


#: Protocol tokens the mutator splices in.
TOKENS = (
    b"\x1e",
    b":",
    b"\xff",
    b"\x00",
    b"\x01",
    b"\x04",
    b"b",
    b"b4",
    b"=",
    b"==",
    b"0",
    b"1",
    b"9",
    b"99999",
    b"0:",
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf0\x9f\x98\x80",  # an astral character
    b"\xe2\x82\xac",  # a 3-byte character
    b"\xc0\xaf",  # overlong
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random edits of ``data`` (the first byte, the mode, may change too)."""
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(data))
        edit = rng.randrange(6)
        if edit == 0 and at < len(data):
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
        elif edit == 1:
            data = data[:at] + rng.choice(TOKENS) + data[at:]
        elif edit == 2:
            data = data[:at] + data[at + rng.randint(1, 8) :]
        elif edit == 3:
            data = data[:at]
        elif edit == 4:
            end = min(len(data), at + rng.randint(1, 16))
            data = data[:end] + data[at:end] + data[end:]
        else:
            data = (
                data[:at] + bytes(rng.randrange(10) for _ in range(rng.randint(1, 3))) + data[at:]
            )
    return data


def _run_atheris(argv: list[str]) -> None:
    atheris = importlib.import_module("atheris")
    from fuzzkit import in_own_chunk, instrument_siox

    instrument_siox()  # coverage of siox's Python code guides the search
    atheris.Setup(argv, run_one)
    in_own_chunk(atheris.Fuzz)


def _run_hypothesis(runs: int, seed: int | None, mutants: int) -> int:
    from hypothesis import (
        HealthCheck,
        Phase,
        given,
        seed as hypothesis_seed,
        settings,
        strategies as st,
    )

    text = st.text(
        alphabet=st.characters(codec="utf-8") | st.sampled_from("0123456b:\x1e😀€AQ=="),
        max_size=20,
    )
    packets = st.lists(
        st.builds(EnginePacket, st.sampled_from(EnginePacketType), text)
        | st.builds(EnginePacket, st.just(EnginePacketType.MESSAGE), st.binary(max_size=20)),
        max_size=5,
    )

    @st.composite
    def grammar_inputs(draw: st.DrawFn) -> bytes:
        """A valid encoding for some mode, then a few random edits."""
        mode = draw(st.integers(0, MODES - 1))
        chosen = draw(packets)
        eio = 4 if mode in (0, 1, 4, 5) else 3
        if eio == 4:
            chosen = [p for p in chosen if not (isinstance(p.data, str) and "\x1e" in p.data)]
        if mode < 4:
            body = encode_packet(chosen[0], eio=eio, b64=mode in (1, 3)) if chosen else b""
        elif chosen or eio == 3:
            body = encode_payload(chosen, eio=eio, b64=mode not in (8, 9))
        else:
            body = b""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        for _ in range(draw(st.integers(0, 3))):
            if not raw:
                break
            at = draw(st.integers(0, len(raw) - 1))
            edit = draw(st.integers(0, 3))
            if edit == 0:  # flip a byte
                raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
            elif edit == 1:  # delete a span
                raw = raw[:at] + raw[at + draw(st.integers(1, 4)) :]
            elif edit == 2:  # insert bytes
                raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
            else:  # truncate
                raw = raw[:at]
        return bytes([mode]) + raw

    count = 0

    @settings(
        max_examples=max(1, runs // (mutants + 1)),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.binary(max_size=64) | grammar_inputs(), mutation_seed=st.integers(0, 2**32))
    def target(data: bytes, mutation_seed: int) -> None:
        nonlocal count
        count += 1
        run_one(data)
        rng = random.Random(mutation_seed)
        for _ in range(mutants):
            mutant = mutate(data, rng)
            count += 1
            try:
                run_one(mutant)
            except BaseException:
                print(f"failing input: {mutant!r}", file=sys.stderr)
                raise

    if seed is not None:
        target = hypothesis_seed(seed)(target)
    target()
    return count


def main() -> None:
    """Run under atheris when importable, else under the hypothesis loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100_000, help="inputs to try (hypothesis)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed")
    parser.add_argument("--mutants", type=int, default=40, help="mutations run per seed input")
    parser.add_argument("--hypothesis", action="store_true", help="do not use atheris")
    args, rest = parser.parse_known_args()
    if not args.hypothesis and importlib.util.find_spec("atheris") is not None:
        _run_atheris([sys.argv[0], *rest])
        return
    start = time.monotonic()
    count = _run_hypothesis(args.runs, args.seed, args.mutants)
    print(f"fuzz_engineio: {count} inputs, no failure, {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
