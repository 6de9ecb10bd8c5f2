"""The http profile against express-rate-limit on Node, unmodified, on loopback: a fixed window
anchored at a key's first hit, Retry-After in whole seconds, and the IETF RateLimit fields of
drafts 7 and 8, each held to the declared policy and to what was admitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from limiters import CONFIGS, express

from harness.cli.check import judge
from harness.conformance import Outcome
from harness.profiles.http import load_http_scenario
from harness.profiles.http.run import run_http
from harness.run.reader import read_records

SCENARIO = CONFIGS / "express.toml"


@pytest.mark.parametrize("draft", ["draft-7", "draft-8"])
def test_express_rate_limit_is_conformant_with_its_ratelimit_fields(
    draft: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with express(draft, tmp_path / "node") as url:
        run_http(
            load_http_scenario(SCENARIO), url, run_dir, run_id="t", versions={}, timeout_s=10.0
        )
    verdict = judge(run_dir)
    checks = {check.id: check for check in verdict.checks}
    assert verdict.conformant, {check.id: check.summary for check in verdict.checks}
    assert verdict.algorithm == "anchored-window"
    assert checks["ratelimit-fields"].outcome is Outcome.PASS
    assert checks["wait-honesty"].outcome is Outcome.PASS  # polite retries after Retry-After
    # the fields were there to judge, in this draft's syntax
    fields = read_records(run_dir, ["m_other"])["m_other"].astype(str)
    assert fields.str.contains("ratelimit").all()
    assert fields.str.contains("; r=" if draft == "draft-8" else "limit=5, remaining=").all()
