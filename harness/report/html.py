"""``report.html``: one self-contained page, the verdict on top, then each notebook's outputs.

Figures are embedded as ``data:`` URIs and the style is inline: the file can be mailed or
attached to a release and opened offline. Code is not shown (the executed notebooks hold it);
Markdown is rendered without raw HTML, and every text from the run is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from nbformat import NotebookNode

from harness.conformance import contrast
from harness.conformance.findings import Outcome
from harness.run.interruption import Interruption

__all__ = [
    "FigureFile",
    "Section",
    "figure_html",
    "notebook_section",
    "render_page",
    "render_report",
]

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


@dataclass(frozen=True, slots=True)
class FigureFile:
    """A PNG a notebook displayed, with the file name the report gives it."""

    filename: str
    png: bytes


@dataclass(slots=True)
class Section:
    """A notebook's part of the report: its title and its outputs as HTML blocks."""

    anchor: str
    title: str
    blocks: list[str] = field(default_factory=list)
    figures: list[FigureFile] = field(default_factory=list)
    error: str | None = None


def figure_html(figure: FigureFile) -> str:
    """A figure embedded as a ``data:`` URI, captioned with its file name."""
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(figure.filename)}">'
        f"<figcaption>{escape(figure.filename)}</figcaption></figure>"
    )


def _output_block(
    output: NotebookNode, name_figure: Callable[[str], str]
) -> tuple[str, FigureFile | None]:
    kind = output.get("output_type")
    if kind == "stream":
        return (f"<pre>{escape(output['text'])}</pre>" if output["name"] == "stdout" else ""), None
    if kind == "error":
        return (
            f'<div class="error">{escape(output["ename"])}: {escape(output["evalue"])}</div>',
            None,
        )
    data: Mapping[str, Any] = output.get("data", {})
    if "image/png" in data:
        filename = name_figure(str(output.get("metadata", {}).get("filename", "")))
        figure = FigureFile(filename, base64.b64decode(data["image/png"]))
        return figure_html(figure), figure
    if "text/html" in data:
        return f'<div class="output">{_text(data["text/html"])}</div>', None
    if "text/markdown" in data:
        return f'<div class="note">{_markdown(_text(data["text/markdown"]))}</div>', None
    if "text/plain" in data:
        return f"<pre>{escape(_text(data['text/plain']))}</pre>", None
    return "", None


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _markdown(text: str) -> str:
    """Markdown inside a section: headings one level down (the section's title is the h2)."""
    html: str = _MARKDOWN.render(text)
    for level in (5, 4, 3, 2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>")
        html = html.replace(f"</h{level}>", f"</h{level + 1}>")
    return html


def notebook_section(name: str, notebook: NotebookNode, error: str | None = None) -> Section:
    """The outputs of an executed notebook; its first ``# heading`` is the section's title."""
    section = Section(anchor=name, title=name.replace("_", " ").capitalize(), error=error)
    used: set[str] = set()

    def name_figure(wanted: str) -> str:
        stem = wanted.removesuffix(".png") or f"figure-{len(used) + 1}"
        candidate, number = f"{name}-{stem}.png", 2
        while candidate in used:
            candidate, number = f"{name}-{stem}-{number}.png", number + 1
        used.add(candidate)
        return candidate

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            source = _text(cell.source)
            first = source.lstrip().splitlines()[0] if source.strip() else ""
            if first.startswith("# ") and not section.blocks:
                section.title = first[2:].strip()
                source = source.lstrip()[len(first) :]
            section.blocks.append(_markdown(source))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                block, figure = _output_block(output, name_figure)
                if block:
                    section.blocks.append(block)
                if figure is not None:
                    section.figures.append(figure)
    return section


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529;margin:0;
background:#f8f9fa}
main{max-width:1240px;margin:0 auto;padding:16px 24px 48px;background:#fff}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:20px;margin:36px 0 8px;padding-top:8px;
border-top:2px solid #dee2e6}h3{font-size:16px;margin:20px 0 6px}
.facts{color:#495057;font-size:14px;margin:0 0 12px}.facts span{margin-right:18px}
.banner{padding:10px 16px;border-radius:6px;font-size:18px;font-weight:700;color:#fff;margin:8px 0}
.banner.ok{background:#2b8a3e}.banner.bad{background:#c92a2a}.banner.none{background:#868e96}
nav{font-size:14px;margin:8px 0 4px}nav a{margin-right:14px;color:#1864ab}
table{border-collapse:collapse;font-size:13.5px;margin:6px 0 12px}
th,td{border-bottom:1px solid #dee2e6;padding:4px 10px;text-align:left;vertical-align:top}
td code{white-space:nowrap}th{background:#f1f3f5}.num{text-align:right}
tr.fail td{background:#fff5f5}tr.fail td.outcome{color:#c92a2a}
.badge{display:inline-block;min-width:92px;padding:1px 8px;border-radius:10px;color:#fff;
font-weight:700;font-size:12.5px;text-align:center}
.badge.pass{background:#2b8a3e}.badge.fail{background:#c92a2a}
.badge.inconclusive{background:#f08c00}.badge.skipped{background:#868e96}
figure{margin:10px 0 18px}figure img{max-width:100%;height:auto;border:1px solid #e9ecef}
figcaption{font-size:12px;color:#868e96}
.note{background:#f1f3f5;border-left:4px solid #1864ab;padding:2px 14px;margin:10px 0}
.error{background:#fff5f5;border-left:4px solid #c92a2a;color:#c92a2a;padding:8px 14px;
margin:10px 0;font-weight:600;white-space:pre-wrap}
pre{background:#f8f9fa;padding:8px;overflow-x:auto;font-size:13px}
"""


def _proof(check: Mapping[str, Any]) -> str:
    """Under a failed check: whether it is a root cause or explained by one (and the family it
    assumed), the requests it cites, and what its first violation expected."""
    evidence = check.get("evidence") or []
    proofs = check.get("proofs") or []
    first = proofs[0] if isinstance(proofs, list) and proofs else None
    explanation = str(check.get("explanation") or "")
    family = str(check.get("assumed_family") or "")
    if explanation and family:
        explanation += f" (assumed: {family})"
    lines = [explanation] if explanation else []
    lines += [f"evidence: {', '.join(map(str, evidence[:5]))}"] if evidence else []
    if isinstance(first, Mapping):
        lines.append(contrast(str(first.get("expected", "")), str(first.get("observed", ""))))
    return "".join(f"<br><small>{escape(line)}</small>" for line in lines)


def _verdict_table(verdict: Mapping[str, Any] | None, capacity_run: bool) -> str:
    if verdict is None and capacity_run:
        return (
            '<div class="banner none">CAPACITY RUN: not judged for conformance (limits set high '
            "enough never to throttle)</div>"
        )
    if verdict is None:
        return (
            '<div class="banner none">NOT JUDGED: this run has no verdict.json '
            "(run <code>aisk-harness check RUN_DIR</code>)</div>"
        )
    checks: Sequence[Mapping[str, Any]] = verdict.get("checks", [])
    failed = [c for c in checks if c.get("outcome") == Outcome.FAIL]
    # verdict.json's status; runs from before it had one read by ``conformant`` alone.
    status = str(verdict.get("status") or ("conformant" if verdict.get("conformant") else ""))
    state, css = _BANNERS.get(status, ("NOT CONFORMANT", "bad"))
    stopped = verdict.get("interruption")
    if isinstance(stopped, Mapping):  # as the summary line says it: "(interrupted by SIGINT …)"
        state += f" ({escape(Interruption.model_validate(stopped).describe())})"
    rows = []
    for check in checks:
        outcome = escape(str(check.get("outcome", "")))
        proof = _proof(check) if outcome == Outcome.FAIL else ""
        rows.append(
            f'<tr class="{outcome}"><td><code>{escape(str(check.get("id", "")))}</code></td>'
            f"<td>{escape(str(check.get('title', '')))}</td>"
            f'<td class="outcome"><span class="badge {outcome}">{outcome}</span></td>'
            f"<td>{_power(check)}</td>"
            f"<td>{escape(str(check.get('summary', '')))}{proof}</td></tr>"
        )
    limiter = (
        f"<p>Limiter identified: <b>{escape(str(verdict.get('algorithm', '')))}</b> "
        f"({escape(str(verdict.get('algorithm_reason', '')))})</p>"
    )
    return (
        f'<div class="banner {css}">{state}: {len(failed)} of {len(checks)} checks failed'
        f"{escape(_roots(failed))}</div>"
        f"{limiter}<table><thead><tr><th>check</th><th>title</th><th>outcome</th>"
        f"<th>keys with power</th><th>summary</th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table>"
    )


def _roots(failed: Sequence[Mapping[str, Any]]) -> str:
    """' (root cause: X; the other N explained by it)' where some failures echo others."""
    roots = [str(check.get("id", "")) for check in failed if check.get("root") is not False]
    if not roots or len(roots) == len(failed):
        return ""
    them = "it" if len(roots) == 1 else "them"
    others = len(failed) - len(roots)
    return f" (root cause: {', '.join(roots)}; the other {others} explained by {them})"


_BANNERS = {
    "conformant": ("CONFORMANT", "ok"),
    "not-conformant": ("NOT CONFORMANT", "bad"),
    "inconclusive": ("INCONCLUSIVE", "none"),
}


def _power(check: Mapping[str, Any]) -> str:
    """ "7 of 9": the keys whose traffic could have shown a violation, of those judged ("" for
    a check without a per-key notion of power, or a verdict from before it was counted)."""
    with_power, without = check.get("keys_with_power"), check.get("keys_without_power")
    if with_power is None:
        return ""
    return f"{int(with_power)} of {int(with_power) + int(without or 0)}"


def render_report(
    title: str,
    facts: Mapping[str, str],
    verdict: Mapping[str, Any] | None,
    sections: Sequence[Section],
) -> str:
    """The whole page: title, run facts, verdict table, a link per section, the sections."""
    capacity_run = any(section.anchor == "capacity" for section in sections)
    return render_page(title, facts, _verdict_table(verdict, capacity_run), sections)


def render_page(title: str, facts: Mapping[str, str], top: str, sections: Sequence[Section]) -> str:
    """A page in the report's style: title, facts, ``top`` (HTML made by the caller, every text
    in it escaped), a link per section, the sections. Also the page of ``compare`` and
    ``history``."""
    nav = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in sections)
    fact_line = "".join(
        f"<span>{escape(name)}: <b>{escape(value)}</b></span>" for name, value in facts.items()
    )
    body = []
    for section in sections:
        failure = (
            f'<div class="error">this notebook failed: {escape(section.error)}</div>'
            if section.error
            else ""
        )
        body.append(
            f'<section id="{escape(section.anchor)}"><h2>{escape(section.title)}</h2>'
            f"{failure}{''.join(section.blocks)}</section>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><div class="facts">{fact_line}</div>'
        f'<section id="verdict">{top}</section>'
        f"<nav>Sections: {nav}</nav>{''.join(body)}</main></body></html>\n"
    )
