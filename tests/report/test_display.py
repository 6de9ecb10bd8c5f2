"""A report table as HTML: headers in words, booleans as yes and no, nothing left raw."""

from __future__ import annotations

import pandas as pd

from harness.report.display import table_html


def test_a_table_shows_words_over_its_columns_and_yes_or_no_for_booleans() -> None:
    frame = pd.DataFrame(
        {"case": ["a<b"], "p95_ms": [12.345], "within_slo": [True], "steady": [False]}
    )
    html = table_html(frame)
    assert "<th>case</th>" in html
    assert '<th class="num">p95 (ms)</th>' in html
    assert "within the SLO" in html
    assert "p95_ms" not in html
    assert "within_slo" not in html
    assert ">yes<" in html
    assert ">no<" in html
    assert "True" not in html
    assert "a&lt;b" in html
    assert ">12.3<" in html
