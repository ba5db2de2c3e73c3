"""bench/run.py's results: medians over the repeats, ratios to Node's, a Markdown table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from .cases import SCENARIOS

REFERENCES = ("node", "python-socketio")


@dataclass
class Row:
    """One target in one case: its runs, summarized."""

    scenario: str
    case: str
    target: str
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self, key: str) -> float | None:
        values = [r[key] for r in self.results if isinstance(r.get(key), int | float)]
        return statistics.median(values) if values else None

    def spread(self) -> tuple[float, float] | None:
        values = [r["throughput"] for r in self.results]
        return (min(values), max(values)) if values else None

    def total(self, key: str) -> int:
        return sum(int(r.get(key) or 0) for r in self.results)

    @property
    def unit(self) -> str:
        return str(self.results[0]["unit"]) if self.results else ""

    def summary(self, ratios: dict[str, float | None]) -> dict[str, Any]:
        """The JSON form of this row (what the README and docs quote)."""
        return {
            "scenario": self.scenario,
            "case": self.case,
            "target": self.target,
            "runs_ok": len(self.results),
            "runs_failed": len(self.errors),
            "throughput_median": self.median("throughput"),
            "throughput_range": self.spread(),
            "unit": self.unit,
            "p50_ms": self.median("p50_ms"),
            "p99_ms": self.median("p99_ms"),
            "server_cpu_us_per_op": self.median("server_cpu_us_per_op"),
            "server_cpu_pct": self.median("server_cpu_pct"),
            "loadgen_cpu_pct": self.median("loadgen_cpu_pct"),
            "rss_kib_per_conn": self.median("rss_kib_per_conn"),
            "unanswered": self.total("missing"),
            "wrong_answers": self.total("bad"),
            "ratios": ratios,
            "errors": self.errors,
        }


def collect(runs: list[dict[str, Any]]) -> list[Row]:
    """Rows in the order the runs name them (scenario, case, target)."""
    rows: dict[tuple[str, str, str], Row] = {}
    for run in runs:
        key = (run["scenario"], run["case"], run["target"])
        row = rows.setdefault(key, Row(*key))
        result = run.get("result") or {}
        if run.get("error") or "error" in result:
            row.errors.append(str(run.get("error") or result["error"])[:500])
        else:
            row.results.append(result)
    # each case's targets side by side, in the order the runs first name them
    cases = {key[:2]: index for index, key in reversed(list(enumerate(rows)))}
    targets = {key[2]: index for index, key in reversed(list(enumerate(rows)))}
    return sorted(rows.values(), key=lambda r: (cases[r.scenario, r.case], targets[r.target]))


def ratios(row: Row, rows: list[Row]) -> dict[str, float | None]:
    """This row against each reference in the same case.

    ``REF``: median throughput over the reference's (higher: faster). ``REF cpu``: the
    reference's median server CPU time per operation over this row's (higher: cheaper).
    """
    out: dict[str, float | None] = {}
    for reference in REFERENCES:
        theirs = next(
            (
                other
                for other in rows
                if (other.scenario, other.case, other.target) == (row.scenario, row.case, reference)
            ),
            None,
        )
        for key, name, inverse in (
            ("throughput", reference, False),
            ("server_cpu_us_per_op", f"{reference} cpu", True),
        ):
            mine = row.median(key)
            other = theirs.median(key) if theirs else None
            if inverse:
                mine, other = other, mine
            out[name] = round(mine / other, 2) if mine is not None and other else None
    return out


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def heading(meta: dict[str, Any]) -> list[str]:
    """What the run was measured on, and how busy the machine was."""
    load = meta["load_average"][0], meta["load_average_end"][0]
    pinned = "server on CPU 0, load generator on CPU 1" if meta["pinned"] else "not pinned"
    return [
        f"Measured {meta['date_utc']} UTC on {meta['cpus']} x {meta['cpu']} (Linux "
        f"{meta['kernel']}), {pinned}; {meta['repeats']} repeat(s), "
        f"{meta['timing']['measureS']:g} s per case. Load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end. Versions: "
        + ", ".join(f"{name} {version}" for name, version in meta["targets"].items())
        + ".",
        "",
    ]


def headline(rows: list[Row]) -> list[str]:
    """One line per case: each target's median throughput, siox's ratios, CPU per operation."""
    names = list(dict.fromkeys(row.target for row in rows))
    lines = [
        "| scenario | case | "
        + " | ".join(names)
        + " | siox vs node | siox vs python-socketio | siox CPU/op vs node |",
        "|---|---|" + "--:|" * (len(names) + 3),
    ]
    for key in dict.fromkeys((row.scenario, row.case) for row in rows):
        mine = {row.target: row for row in rows if (row.scenario, row.case) == key}
        cells = [f"{_number(mine[n].median('throughput'))} {mine[n].unit}" if n in mine else "-"
                 for n in names]  # fmt: skip
        siox = ratios(mine["siox"], rows) if "siox" in mine else {}
        lines.append(
            f"| {key[0]} | {key[1]} | {' | '.join(cells)} | {_ratio(siox.get('node'))} "
            f"| {_ratio(siox.get('python-socketio'))} | {_ratio(siox.get('node cpu'))} |"
        )
    return [*lines, ""]


def markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    """The results as Markdown: a summary, one table per scenario, failures listed below it."""
    repeats = int(meta["repeats"])
    lines: list[str] = [*heading(meta), "### Summary", "", *headline(rows)]
    scenarios = list(dict.fromkeys(row.scenario for row in rows))
    for scenario in scenarios:
        lines += [
            f"### {scenario}",
            "",
            SCENARIOS.get(scenario, ""),
            "",
            "| case | server | throughput | vs node | vs python-socketio | p50 ms | p99 ms "
            "| server CPU µs/op | CPU vs node | server CPU% | loadgen CPU% | RSS KiB/conn "
            "| unanswered | runs ok |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        failures = []
        for row in (r for r in rows if r.scenario == scenario):
            rates = ratios(row, rows)
            throughput = _number(row.median("throughput"))
            spread = row.spread()
            if spread and repeats > 1:
                throughput += f" [{_number(spread[0])}-{_number(spread[1])}]"
            unanswered = row.total("missing") + row.total("bad")
            lines.append(
                f"| {row.case} | {row.target} | {throughput} {row.unit} "
                f"| {_ratio(rates['node'])} | {_ratio(rates['python-socketio'])} "
                f"| {_number(row.median('p50_ms'), 2)} | {_number(row.median('p99_ms'), 2)} "
                f"| {_number(row.median('server_cpu_us_per_op'), 2)} "
                f"| {_ratio(rates['node cpu'])} "
                f"| {_number(row.median('server_cpu_pct'))} "
                f"| {_number(row.median('loadgen_cpu_pct'))} "
                f"| {_number(row.median('rss_kib_per_conn'))} "
                f"| {unanswered} | {len(row.results)}/{len(row.results) + len(row.errors)} |"
            )
            failures += [f"- {row.case} / {row.target}: {error}" for error in row.errors]
        lines.append("")
        if failures:
            lines += ["Failures:", "", *failures, ""]
    return "\n".join(lines)


def summaries(rows: list[Row]) -> list[dict[str, Any]]:
    """Every row in JSON form, with its ratios."""
    return [row.summary(ratios(row, rows)) for row in rows]
