"""report.html from executed notebooks: what is shown, what is escaped, what is named."""

from __future__ import annotations

import base64

import nbformat
from nbformat import NotebookNode

from harness.report.html import notebook_section, render_report

PNG = b"\x89PNG\r\n\x1a\nnot-really-a-picture"


def executed_notebook() -> NotebookNode:
    v4 = nbformat.v4
    image = v4.new_output(
        "display_data",
        data={"image/png": base64.b64encode(PNG).decode()},
        metadata={"filename": "timeline.png"},
    )
    cells = [
        v4.new_markdown_cell("# Rate limits\nWhy these <b>charts</b>.\n\n## Per key"),
        v4.new_code_cell(
            "x",
            outputs=[
                image,
                image,  # the same name twice: both kept, under distinct names
                v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()}),
                v4.new_output("display_data", data={"text/markdown": "a **note** <i>raw</i>"}),
                v4.new_output(
                    "display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}
                ),
                v4.new_output("stream", name="stdout", text="printed <out>"),
                v4.new_output("stream", name="stderr", text="a warning nobody asked for"),
                v4.new_output("error", ename="ValueError", evalue="bad <value>", traceback=[]),
            ],
        ),
    ]
    return v4.new_notebook(cells=cells)


def test_a_section_shows_outputs_and_names_its_figures() -> None:
    section = notebook_section("rate_limits", executed_notebook())
    assert section.title == "Rate limits"
    assert [f.filename for f in section.figures] == [
        "rate_limits-timeline.png", "rate_limits-timeline-2.png", "rate_limits-figure-3.png",
    ]  # fmt: skip
    assert all(f.png == PNG for f in section.figures)
    html = "".join(section.blocks)
    assert "Why these &lt;b&gt;charts&lt;/b&gt;." in html  # Markdown without raw HTML
    assert "<h3>Per key</h3>" in html  # one level below the section's own h2
    assert "a <strong>note</strong> &lt;i&gt;raw&lt;/i&gt;" in html
    assert "<table><tr><td>1</td></tr></table>" in html
    assert "printed &lt;out&gt;" in html
    assert "a warning nobody asked for" not in html
    assert "ValueError: bad &lt;value&gt;" in html
    assert html.count(f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"') == 3


def verdict(outcome: str) -> dict[str, object]:
    return {
        "conformant": outcome != "fail",
        "algorithm": "sliding-log",
        "algorithm_reason": "never more than limit",
        "checks": [
            {"id": "burst", "title": "Burst", "outcome": "pass", "summary": "ok", "evidence": []},
            {"id": "quota", "title": "Quota", "outcome": outcome,
             "summary": "<script>alert(1)</script>", "evidence": ["local-7", "local-9"]},
        ],
    }  # fmt: skip


def test_the_verdict_table_makes_failures_obvious_and_escapes_the_summary() -> None:
    html = render_report("t", {"run": "r1"}, verdict("fail"), [])
    assert "NOT CONFORMANT: 1 of 2 checks failed" in html
    assert '<tr class="fail"><td><code>quota</code>' in html
    assert '<span class="badge fail">fail</span>' in html
    assert "evidence: local-7, local-9" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_verdict_table_names_the_root_cause_and_what_it_explains() -> None:
    document = verdict("fail")
    checks = document["checks"]
    assert isinstance(checks, list)
    checks[0].update(outcome="fail", root=True, explanation="root cause")
    checks[1].update(
        root=False,
        explained_by=["burst"],
        explanation="explained by burst: <why>",
        assumed_family="any family",
    )
    html = render_report("t", {"run": "r1"}, document, [])
    assert (
        "NOT CONFORMANT: 2 of 2 checks failed (root cause: burst; the other 1 explained "
        "by it)" in html
    )
    assert "<small>explained by burst: &lt;why&gt; (assumed: any family)</small>" in html
    assert "<small>root cause</small>" in html


def test_a_failed_check_shows_what_its_first_violation_expected_escaped() -> None:
    document = verdict("fail")
    checks = document["checks"]
    assert isinstance(checks, list)
    checks[1]["proofs"] = [
        {"kind": "reset-at", "case": "q", "key": "", "request_ids": ["local-7"],
         "expected": "2024-01-06T00:00:00+08:00", "observed": "<b>Z</b>"},
        {"kind": "limit", "case": "q", "key": "", "request_ids": ["local-9"],
         "expected": "second", "observed": "not shown"},
    ]  # fmt: skip
    html = render_report("t", {"run": "r1"}, document, [])
    assert (
        "<small>expected: 2024-01-06T00:00:00+08:00; observed: &lt;b&gt;Z&lt;/b&gt;</small>" in html
    )
    assert "not shown" not in html
    checks[1]["outcome"] = "pass"
    assert "expected:" not in render_report("t", {"run": "r1"}, document, [])


def test_a_run_without_verdict_says_so_and_a_failed_notebook_is_shown() -> None:
    section = notebook_section("quota", executed_notebook(), error="code cell 2: KeyError: 'x'")
    html = render_report("t", {}, None, [section])
    assert "NOT JUDGED" in html
    assert "this notebook failed: code cell 2: KeyError: &#x27;x&#x27;" in html
    assert html.index('id="verdict"') < html.index('id="quota"')
    assert '<a href="#quota">Rate limits</a>' in html


def test_an_inconclusive_verdict_says_so_and_each_check_shows_its_keys_with_power() -> None:
    document = verdict("inconclusive")
    document["status"] = "inconclusive"
    checks = document["checks"]
    assert isinstance(checks, list)
    checks[0] |= {"keys_with_power": 3, "keys_without_power": 2}
    html = render_report("t", {"run": "r1"}, document, [])
    assert '<div class="banner none">INCONCLUSIVE: 0 of 2 checks failed</div>' in html
    assert "NOT CONFORMANT" not in html
    assert "<th>keys with power</th>" in html
    assert "<td>3 of 5</td>" in html
    document["status"] = "conformant"
    assert '<div class="banner ok">CONFORMANT: 0 of 2 checks failed</div>' in render_report(
        "t", {"run": "r1"}, document, []
    )


def test_a_part_planned_away_shows_as_skipped_with_its_reason_and_keeps_the_banner() -> None:
    document = verdict("pass")
    document["status"] = "conformant"
    checks = document["checks"]
    assert isinstance(checks, list)
    checks.append(
        {
            "id": "vary-isolation/ip-open",
            "title": "Vary isolation: distinct IP keys keep their own budgets",
            "outcome": "skipped",
            "summary": "needs 2 source addresses, this host has 1",
            "evidence": [],
        }
    )
    html = render_report("t", {"run": "r1"}, document, [])
    assert '<div class="banner ok">CONFORMANT: 0 of 3 checks failed</div>' in html
    assert (
        '<tr class="skipped"><td><code>vary-isolation/ip-open</code></td>'
        "<td>Vary isolation: distinct IP keys keep their own budgets</td>"
        '<td class="outcome"><span class="badge skipped">skipped</span></td><td></td>'
        "<td>needs 2 source addresses, this host has 1</td></tr>"
    ) in html


def test_an_interrupted_run_says_so_in_its_banner() -> None:
    document = verdict("inconclusive")
    document["status"] = "inconclusive"
    document["interrupted"] = True
    document["interruption"] = {
        "signal": "SIGINT",
        "at": "2026-12-07T20:00:08.100Z",
        "after_s": 8.1,
        "of_s": 20.0,
    }
    html = render_report("t", {"run": "r1"}, document, [])
    banner = (
        '<div class="banner none">INCONCLUSIVE (interrupted by SIGINT at 8.1 s of 20 s): '
        "0 of 2 checks failed</div>"
    )
    assert banner in html
