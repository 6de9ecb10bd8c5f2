"""``compare.html``: the comparison as one self-contained page in the report's style.

Built on ``harness.report.html`` (its style, its page frame, figures as ``data:`` URIs): the
verdict banner, what changed and every gate on top, then the cases, the capacity and the method.
Every text from a run is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from matplotlib.figure import Figure

from harness.compare.charts import capacity_steps_figure, distributions_figure, shifts_figure
from harness.compare.result import Comparison, Estimate
from harness.compare.rundir import RunData
from harness.compare.stats import MIN_SAMPLES
from harness.compare.table import MARKS, case_table, headline, news_lines, sorted_gates
from harness.report.display import png_bytes, table_html
from harness.report.html import FigureFile, Section, figure_html, render_page

__all__ = ["COMPARE_PAGE_FILE", "render_compare_page", "write_compare_page"]

COMPARE_PAGE_FILE = "compare.html"
_BANNER = {
    "regression": "bad",
    "inconclusive": "none",
    "improvement": "ok",
    "no significant change": "ok",
}
_BADGE = {
    "regression": "fail",
    "improvement": "pass",
    "no significant change": "pass",
    "inconclusive": "inconclusive",
    "not compared": "skipped",
}


def _figure(figure: Figure, name: str) -> str:
    return figure_html(FigureFile(f"{name}.png", png_bytes(figure)))


def _top(comparison: Comparison) -> str:
    banner = (
        f'<div class="banner {_BANNER[comparison.verdict]}">{escape(headline(comparison))}</div>'
    )
    news = "".join(f"<li><b>{escape(line)}</b></li>" for line in news_lines(comparison))
    rows = "".join(
        f'<tr class="{"fail" if gate.outcome == "regression" else ""}">'
        f"<td><code>{escape(gate.subject)}</code></td>"
        f'<td class="outcome"><span class="badge {_BADGE[gate.outcome]}">'
        f"{escape(MARKS[gate.outcome])}</span></td><td>{escape(gate.summary)}</td></tr>"
        for gate in sorted_gates(comparison)
    )
    changed = f'<div class="error"><ul>{news}</ul></div>' if news else ""
    return (
        f"{banner}{changed}<table><thead><tr><th>gate</th><th>outcome</th><th>what was measured"
        f"</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _run_line(side: str, run: RunData) -> str:
    emulator = run.plan.emulator or {}
    settings = ", ".join(f"{k} {v}" for k, v in emulator.items() if v not in (None, "", []))
    target = run.plan.target + (
        f" (embedded emulator: {settings})" if run.plan.embedded_emulator else ""
    )
    return (
        f"<li><b>{side}</b>: {escape(str(run.run_dir))}, run {escape(run.plan.run_id)}"
        f"{', label ' + escape(run.plan.label) if run.plan.label else ''}, started "
        f"{escape(run.plan.created_at)}, target {escape(target)}</li>"
    )


def _rps(estimate: Estimate | None) -> str:
    if estimate is None:
        return "none"
    return f"{estimate.value:.1f} [{estimate.low:.1f}, {estimate.high:.1f}] req/s"


def _method(comparison: Comparison) -> Section:
    method = comparison.method
    text = (
        f"<p>Latency samples: the load's chat requests, by outcome. <b>Admitted</b> answers "
        f"(the model's latency) are gated by the p95 threshold "
        f"({comparison.thresholds.max_p95_increase * 100:g} %); <b>throttles</b> and "
        f"<b>out-of-quota</b> answers (the limiter's own latency) by their p50 and p95 "
        f"({comparison.thresholds.max_refusal_increase * 100:g} %), each a gate of its own; "
        f"errors count in the error rate only. Percentiles by {method.percentile}; the bootstrap "
        f"needs {MIN_SAMPLES} answers in each run.</p><p>Power: {escape(method.power)}. A "
        f"comparison whose admitted p95s (and capacity) are all inconclusive is INCONCLUSIVE, "
        f"exit 3; "
        f"<code>compare --explain</code> prints what each gate can detect.</p>"
        f"<p>Intervals: {escape(method.interval)}, {method.resamples} resamples, seed "
        f"{method.seed}, {method.confidence * 100:g} %. A shift counts as far as its interval "
        f"proves it: {escape(method.gate)}. So a regression is both significant and beyond the "
        f"threshold. Rank test: {escape(method.rank_test)} (shown, not gated: a tail can move "
        f"without the median).</p><p>Requests of one run are not independent (they share the "
        f"target's queue and the machine); blocks keep neighbours together. No interval "
        f"measures how a rerun on another day would differ: the thresholds are for that.</p>"
    )
    return Section(anchor="method", title="How the figures were computed", blocks=[text])


def render_compare_page(comparison: Comparison, base: RunData, candidate: RunData) -> str:
    sections = [
        Section(
            anchor="runs",
            title="Runs",
            blocks=[f"<ul>{_run_line('BASE', base)}{_run_line('CANDIDATE', candidate)}</ul>"],
        )
    ]
    if comparison.cases:
        sections.append(
            Section(
                anchor="cases",
                title="Latency per case",
                blocks=[
                    table_html(case_table(comparison)),
                    "<p>shift [95 % interval]; * the interval excludes 0</p>",
                    _figure(shifts_figure(comparison), "shifts"),
                    _figure(
                        distributions_figure(comparison, base.chats, candidate.chats),
                        "distributions",
                    ),
                ],
            )
        )
    capacity = comparison.capacity
    if capacity is not None and base.capacity is not None and candidate.capacity is not None:
        figures = (
            f"<ul><li>capacity: {_rps(capacity.base_rps)} → {_rps(capacity.candidate_rps)}</li>"
            f"<li>knee: {escape(capacity.base_knee)} ({_rps(capacity.base_knee_rps)}) → "
            f"{escape(capacity.candidate_knee)} ({_rps(capacity.candidate_knee_rps)})</li></ul>"
        )
        sections.append(
            Section(
                anchor="capacity",
                title="Capacity",
                blocks=[
                    figures,
                    _figure(
                        capacity_steps_figure(base.capacity.result, candidate.capacity.result),
                        "capacity",
                    ),
                ],
            )
        )
    sections.append(_method(comparison))
    title = f"aisk-harness compare: {base.name} → {candidate.name}"
    header = {"base": base.name, "candidate": candidate.name, "verdict": comparison.verdict}
    return render_page(title, header, _top(comparison), sections)


def write_compare_page(
    folder: Path, comparison: Comparison, base: RunData, candidate: RunData
) -> Path:
    path = folder / COMPARE_PAGE_FILE
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(render_compare_page(comparison, base, candidate), encoding="utf-8")
    temporary.replace(path)
    return path
