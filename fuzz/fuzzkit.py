"""What every siox fuzz target shares: the atheris entry (coverage-guided, siox instrumented)
and the seeded-mutation fallback loop, both feeding one ``check(data: bytes)`` function.

A target module defines ``check`` (raising only on a bug) and ``SEEDS`` (bytes), then calls
``fuzzkit.main(check, SEEDS, __doc__)``. With atheris: ``python fuzz/X.py [libFuzzer flags]``
(``-atheris_runs=N``, ``-max_total_time=S``, a corpus directory such as ``fuzz/corpus/X``);
without it: ``python fuzz/X.py --runs N --seed S``.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

TOKENS = [b"\x00", b"\xff", b"\x80", b"\x7f", b"\r\n", b"\x1e", b":", b"{", b"}", b"[", b"]"]


def mutate(data: bytes, rng: random.Random, seeds: Sequence[bytes]) -> bytes:
    """One cheap random edit: insert, delete, flip, cut, duplicate or splice."""
    choice = rng.randrange(7)
    at = rng.randrange(len(data) + 1)
    if choice == 0 or not data:
        return data[:at] + rng.choice(TOKENS) + data[at:]
    if choice == 1:
        return data[:at] + data[at + 1 :]
    if choice == 2 and at < len(data):
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
    if choice == 3:
        return data[:at]
    if choice == 4:
        return data + data[at:]
    if choice == 5:
        return data[:at] + rng.randbytes(rng.randrange(1, 9)) + data[at:]
    return data[:at] + rng.choice(seeds)[at:]


def instrument_siox() -> int:
    """Add atheris coverage instrumentation to every loaded siox function (not the stdlib's:
    `atheris.instrument_all` takes ~40 s at start-up for little gain). Returns the count."""
    import atheris

    count = 0
    for obj in gc.get_objects():
        code = getattr(obj, "__code__", None)
        module = getattr(obj, "__module__", None)
        ours = isinstance(module, str) and (module == "siox" or module.startswith("siox."))
        if callable(obj) and code is not None and ours:
            try:
                atheris.instrument_func(obj)
                count += 1
            except Exception as exc:  # a function atheris cannot patch: left as is
                print(f"not instrumented: {obj!r}: {exc}", file=sys.stderr)
    print(f"INFO: instrumented {count} siox functions", file=sys.stderr)
    return count


# CPython 3.11 keeps Python frames on a stack of 16 KiB chunks and frees a chunk as soon as the
# first frame in it returns. A target whose calls for one input cross a chunk's end (the msgpack
# checks recurse ~100 frames deep) then maps and unmaps a chunk per input, several times for a
# deep one: 29 % of `fuzz_msgpack.py`'s CPU time went to the kernel that way. `in_own_chunk`
# runs the fuzzer under a frame of 64 KiB (that many local slots): too large for a 64 KiB chunk
# with CPython's margin, it starts a 128 KiB chunk that stays for the whole run, with ~64 KiB
# free above it for each input's calls (mmap calls per input 8.6 -> 1.1, system time 4.6 -> 0.8 s
# for the same 60,000 msgpack inputs).
_SPACER_SLOTS = 8000
_SPACER_SOURCE = (
    "def spacer(run):\n"
    "    if run is None:\n"
    f"        {' = '.join(f'v{i}' for i in range(_SPACER_SLOTS))} = 0\n"
    "    run()\n"
)


_spacers: list[Callable[[Callable[[], object]], None]] = []


def in_own_chunk(run: Callable[[], object]) -> None:
    """Call ``run`` (``atheris.Fuzz``) from a frame that holds a data-stack chunk of its own."""
    if not _spacers:  # compiled once (8,000 assignments take a moment)
        namespace: dict[str, Any] = {}
        exec(_SPACER_SOURCE, namespace)
        _spacers.append(namespace["spacer"])
    _spacers[0](run)


def loop_main(
    check: Callable[[bytes], object], seeds: Sequence[bytes], runs: int, seed: int
) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    for n in range(1, runs + 1):
        data = rng.choice(seeds)
        for _ in range(rng.randrange(1, 6)):
            data = mutate(data, rng, seeds)
        check(data)
        if n % 100_000 == 0:
            print(f"{n} inputs, {time.perf_counter() - started:.0f} s", flush=True)
    print(f"done: {runs} inputs, no failure", flush=True)


def main(check: Callable[[bytes], object], seeds: Sequence[bytes], doc: str | None) -> None:
    try:
        import atheris
    except ImportError:
        parser = argparse.ArgumentParser(description=doc)
        parser.add_argument("--runs", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=0)
        options = parser.parse_args()
        loop_main(check, seeds, options.runs, options.seed)
        return
    instrument_siox()  # siox is imported already: coverage of its Python code
    atheris.Setup(sys.argv, check)
    in_own_chunk(atheris.Fuzz)
