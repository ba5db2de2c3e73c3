"""Fuzz siox.parser.msgpack's Decoder: every input decodes or raises a ProtocolError, quickly.

Checked for each input:

* ``Decoder().feed(data)`` returns one `Packet` or raises `siox.errors.ProtocolError`; anything
  else (another exception, a hang, a slow decode) is a finding;
* a decoded packet re-encodes, and decoding that gives the same packet back;
* the two decoding paths agree: the msgpack C extension (used unless a type-0 extension makes the
  format byte matter) and the module's pure-Python reader.

With atheris installed (``pip install atheris``; the ``fuzz`` dependency group, Python < 3.12)
this is a coverage-guided libFuzzer target::

    python fuzz/fuzz_msgpack.py -runs=5000000            # 5 million inputs
    python fuzz/fuzz_msgpack.py -max_total_time=3600 corpus_dir/

Without atheris it drives the same checks from hypothesis: each example seeds a generator of
msgpack (every format byte, non-minimal forms, notepack's extension types, mostly packet-shaped
maps) whose output is then randomly mutated::

    python fuzz/fuzz_msgpack.py --runs 5000000           # 5 million inputs
    python fuzz/fuzz_msgpack.py --runs 300000 --seed 7   # reproducible
"""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import struct
import sys
import time
from typing import Any

import msgpack

from siox.errors import ProtocolError
from siox.parser import Packet, msgpack as mp

SLOW_SECONDS = 0.5


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


def check(data: bytes) -> str:
    """Run every check on one input; returns "ok" or "rejected" (raises on a finding)."""
    start = time.perf_counter()
    try:
        (packet,) = mp.Decoder().feed(data)
    except ProtocolError:
        outcome = "rejected"
    else:
        assert isinstance(packet, Packet)
        (again,) = mp.encode(packet)
        back = mp.decode(again)
        assert back.type == packet.type
        assert back.nsp == packet.nsp
        assert back.id == packet.id
        assert same(back.data, packet.data), (packet, back)
        outcome = "ok"
    elapsed = time.perf_counter() - start
    if elapsed > SLOW_SECONDS:  # measure again before blaming the decoder for a busy machine
        again_start = time.perf_counter()
        with contextlib.suppress(ProtocolError):
            mp.decode(data)
        elapsed = time.perf_counter() - again_start
        assert elapsed < SLOW_SECONDS, f"{elapsed:.3f} s for {len(data)} bytes"
    try:
        fast: Any = ("ok", mp._unpack_fast(data, mp.DEFAULT_MAX_DEPTH))
    except mp._AmbiguousExt:
        return outcome
    except ProtocolError:
        fast = ("error",)
    try:
        slow: Any = ("ok", mp._Reader(data, mp.DEFAULT_MAX_DEPTH).document())
    except ProtocolError:
        slow = ("error",)
    assert fast[0] == slow[0], (data, fast, slow)
    assert fast[0] == "error" or same(fast[1], slow[1]), (data, fast, slow)
    return outcome


def test_one_input(data: bytes) -> None:
    """The atheris entry point."""
    check(data)


# --------------------------------------------------------------------------- hypothesis driver
# Hypothesis draws a seed and a mutation budget per example; a fast generator built on that
# seed then writes a batch of msgpack inputs (every format byte, non-minimal forms, notepack's
# extension types, mostly packet-shaped maps) and mutates them. Per-input hypothesis strategies
# run at about a hundred inputs a second; this runs thousands.

_FIXEXT_SIZES = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


class _Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def sized(self, small: int | None, forms: list[tuple[int, str]], n: int, body: bytes) -> bytes:
        """A length-prefixed item, in its shortest form or (sometimes) a longer one."""
        rng = self.rng
        if small is not None and rng.random() < 0.7:
            return bytes([small | n]) + body
        prefix, fmt = rng.choice(forms)
        return bytes([prefix]) + struct.pack(fmt, n % (1 << (8 * struct.calcsize(fmt)))) + body

    def text(self) -> bytes:
        rng = self.rng
        choice = rng.random()
        if choice < 0.6:
            raw = "".join(rng.choice("abc/_é😀\x00") for _ in range(rng.randrange(8))).encode()
        elif choice < 0.8:
            raw = rng.choice(["connect", "disconnect", "message", "type", "nsp", "/", ""]).encode()
        else:
            raw = rng.randbytes(rng.randrange(12))
        small = 0xA0 if len(raw) < 32 else None
        return self.sized(small, [(0xD9, ">B"), (0xDA, ">H"), (0xDB, ">I")], len(raw), raw)

    def integer(self) -> bytes:
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:
            return bytes([rng.randrange(0x80)])
        if choice == 1:
            return struct.pack(">b", rng.randrange(-32, 0))
        prefix, fmt = rng.choice(
            [(0xCC, ">B"), (0xCD, ">H"), (0xCE, ">I"), (0xCF, ">Q"),
             (0xD0, ">b"), (0xD1, ">h"), (0xD2, ">i"), (0xD3, ">q")]
        )  # fmt: skip
        bits = 8 * struct.calcsize(fmt)
        low = -(1 << (bits - 1)) if fmt.islower() else 0
        return bytes([prefix]) + struct.pack(fmt, rng.randrange(low, low + (1 << bits)))

    def scalar(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(10)
        if kind == 0:
            return rng.choice([b"\xc0", b"\xc2", b"\xc3", b"\xc1"])
        if kind <= 2:
            return self.integer()
        if kind == 3:
            if rng.random() < 0.5:
                return b"\xca" + rng.randbytes(4)
            value = rng.choice([0.5, -0.0, 1e20, math.nan, math.inf, 2.0**53, rng.random()])
            return b"\xcb" + struct.pack(">d", value)
        if kind <= 5:
            return self.text()
        if kind == 6:
            raw = rng.randbytes(rng.randrange(20))
            return self.sized(None, [(0xC4, ">B"), (0xC5, ">H"), (0xC6, ">I")], len(raw), raw)
        if kind == 7:
            return rng.choice([b"\xd4\x00\x00", b"\xd7\x00" + rng.randbytes(8)])
        prefix = rng.choice([0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xC7, 0xC8, 0xC9])
        code = struct.pack(">b", rng.choice([0, 0, 0, -1, 1, rng.randrange(-128, 128)]))
        if prefix in _FIXEXT_SIZES:
            return bytes([prefix]) + code + rng.randbytes(_FIXEXT_SIZES[prefix])
        raw = rng.randbytes(rng.choice([0, 1, 2, 4, 8, 16, rng.randrange(40)]))
        fmt = {0xC7: ">B", 0xC8: ">H", 0xC9: ">I"}[prefix]
        return bytes([prefix]) + struct.pack(fmt, len(raw)) + code + raw

    def value(self, depth: int) -> bytes:
        rng = self.rng
        kind = rng.random()
        if depth > 0 and kind < 0.2:
            items = [self.value(depth - 1) for _ in range(rng.randrange(5))]
            return self.array(items)
        if depth > 0 and kind < 0.35:
            pairs = [(self.text(), self.value(depth - 1)) for _ in range(rng.randrange(4))]
            return self.map(pairs)
        return self.scalar()

    def array(self, items: list[bytes]) -> bytes:
        small = 0x90 if len(items) < 16 else None
        return self.sized(small, [(0xDC, ">H"), (0xDD, ">I")], len(items), b"".join(items))

    def map(self, pairs: list[tuple[bytes, bytes]]) -> bytes:
        small = 0x80 if len(pairs) < 16 else None
        body = b"".join(k + v for k, v in pairs)
        return self.sized(small, [(0xDE, ">H"), (0xDF, ">I")], len(pairs), body)

    def key(self, name: str) -> bytes:
        return bytes([0xA0 | len(name)]) + name.encode()

    def packet(self) -> bytes:
        rng = self.rng
        ptype = rng.choice([0, 1, 2, 2, 3, 4]) if rng.random() < 0.9 else rng.randrange(-1, 8)
        fields = [(self.key("type"), bytes([ptype % 256]) if ptype >= 0 else b"\xff")]
        nsp = rng.choice(["/", "/chat", "/a/b", "", "x"]).encode()
        fields.append((self.key("nsp"), bytes([0xA0 | len(nsp)]) + nsp))
        data = self.payload(ptype)
        if data is not None:
            fields.append((self.key("data"), data))
        if rng.random() < 0.4:
            ack = rng.choice([0, 1, 255, 2**32, 2**53 - 1, 2**53, -1])
            fields.append((self.key("id"), msgpack.packb(ack) if rng.random() < 0.9 else b"\xc0"))
        if rng.random() < 0.1:
            fields.append((self.key("options"), b"\x81\xa8compress\xc3"))
        if rng.random() < 0.1:
            fields.append((self.key(rng.choice(["data", "id", "nsp"])), b"\xd4\x00\x00"))
        rng.shuffle(fields)
        return self.map(fields)

    def payload(self, ptype: int) -> bytes | None:
        rng = self.rng
        if rng.random() < 0.1:
            return self.value(3)
        if ptype == 1 or (ptype == 0 and rng.random() < 0.4):
            return None
        if ptype in (0, 4) and rng.random() < 0.8:
            pairs = [(self.text(), self.value(3)) for _ in range(rng.randrange(4))]
            return self.text() if ptype == 4 and rng.random() < 0.3 else self.map(pairs)
        items = [self.value(4) for _ in range(rng.randrange(5))]
        if ptype == 2 or rng.random() < 0.1:
            items.insert(0, self.text() if rng.random() < 0.9 else self.value(1))
        return self.array(items)

    def mutate(self, data: bytes, edits: int) -> bytes:
        rng = self.rng
        out = bytearray(data)
        for _ in range(edits):
            position = rng.randrange(len(out) + 1)
            action = rng.randrange(5)
            if action == 0 and position < len(out):
                out[position] = rng.randrange(256)
            elif action == 1:
                out.insert(position, rng.randrange(256))
            elif action == 2 and position < len(out):
                del out[position]
            elif action == 3:
                del out[position:]
            else:
                end = min(len(out), position + rng.randrange(1, 8))
                out[position:position] = out[position:end]
        return bytes(out)


def run_hypothesis(runs: int, seed: int | None, batch: int = 200) -> None:
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st

    counts = {"ok": 0, "rejected": 0}
    started = time.perf_counter()
    examples = max(1, runs // batch)

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=seed is not None,
    )
    @given(base=st.integers(0, 2**64), edits=st.integers(0, 4))
    def one(base: int, edits: int) -> None:
        rng = random.Random(base if seed is None else base ^ seed)
        generator = _Generator(rng)
        for _ in range(batch):
            data = generator.packet() if rng.random() < 0.8 else generator.value(4)
            data = generator.mutate(data, rng.randrange(edits + 1))
            try:
                counts[check(data)] += 1
            except Exception:
                print(f"finding on input {data!r}", flush=True)
                raise
        total = counts["ok"] + counts["rejected"]
        if total % 50_000 < batch:
            rate = total / (time.perf_counter() - started)
            print(f"{total} inputs ({counts['ok']} decoded, {counts['rejected']} rejected), "
                  f"{rate:.0f}/s", flush=True)  # fmt: skip

    one()
    total = counts["ok"] + counts["rejected"]
    print(f"done: {total} inputs ({counts['ok']} decoded, {counts['rejected']} rejected) "
          f"in {time.perf_counter() - started:.0f} s, no findings")  # fmt: skip


def main() -> None:
    try:
        import atheris  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--runs", type=int, default=300_000, help="inputs to try")
        parser.add_argument("--seed", type=int, default=None)
        args = parser.parse_args()
        run_hypothesis(args.runs, args.seed)
        return
    from fuzzkit import in_own_chunk, instrument_siox

    instrument_siox()  # coverage of siox's Python code guides the search
    atheris.Setup(sys.argv, test_one_input)
    in_own_chunk(atheris.Fuzz)


if __name__ == "__main__":
    main()
