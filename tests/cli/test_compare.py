"""``aisk-harness compare`` on synthetic run directories: every verdict and every exit code."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest

from harness.cli.main import main
from harness.conformance.findings import Outcome
from harness.conformance.verdict import Verdict
from harness.load.scenario import Case

RunMaker = Callable[..., Path]


def compare(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["compare", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def pair(
    tmp_path: Path, make_run: RunMaker, latencies_ms: Callable[..., np.ndarray],
    make_verdict: Callable[..., Verdict],
) -> Callable[..., tuple[Path, Path, Path]]:  # fmt: skip
    """A base run at 20 ms and a candidate at ``mean`` ms (both judged), and an output folder."""

    def make(
        mean: float = 20.0, candidate_verdict: Verdict | None = None
    ) -> tuple[Path, Path, Path]:
        base = make_run(tmp_path / "base", {"answers": latencies_ms(20.0, seed=1)},
                        judged=make_verdict(), label="v1.0")  # fmt: skip
        candidate = make_run(
            tmp_path / "candidate", {"answers": latencies_ms(mean, seed=2)},
            judged=candidate_verdict or make_verdict(), label="v1.1",
        )  # fmt: skip
        return base, candidate, tmp_path / "out"

    return make


def test_the_same_latency_is_no_significant_change(
    pair: Callable[..., tuple[Path, Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, candidate, out = pair(20.0)
    code, stdout, err = compare(capsys, str(base), str(candidate), "--out", str(out))
    assert (code, err) == (0, "")
    assert "\nNO SIGNIFICANT CHANGE: 0 of 4 gates regressed, 0 improved\n" in stdout
    document = json.loads((out / "compare.json").read_text())
    assert document["verdict"] == "no significant change"
    assert document["exit_code"] == 0
    assert (document["base"]["label"], document["candidate"]["label"]) == ("v1.0", "v1.1")
    suite = ET.parse(out / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("4", "0")
    page = (out / "compare.html").read_text()
    assert "NO SIGNIFICANT CHANGE" in page
    assert page.count("data:image/png;base64,") == 2  # the shifts and the distributions


def test_a_slower_candidate_is_a_regression(
    pair: Callable[..., tuple[Path, Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, candidate, out = pair(30.0)
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--out", str(out))
    assert code == 1
    lines = stdout.splitlines()
    assert lines[3] == "REGRESSION: 1 of 4 gates regressed, 0 improved"
    assert re.fullmatch(
        r"  REGRESSION +p95 answers +p95 of admitted answers 21\.8 → 32\.4 ms \(\+48\.9 %, 95 % "
        r"interval \+4\d\.\d % … \+4\d\.\d %\): beyond the 10 % allowed",
        lines[4],
    )
    failure = ET.parse(out / "junit.xml").getroot().find("testcase[@name='p95 answers']/failure")
    assert failure is not None
    assert "beyond the 10 % allowed" in failure.get("message", "")
    # A threshold above the shift lets it through, but only as far as the interval proves.
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--out", str(out),
                              "--max-p95-increase", "80%")  # fmt: skip
    assert code == 0
    assert re.search(
        r"\n  no change +p95 answers +p95 of admitted answers .*: within ±80 %\n", stdout
    )


def test_a_faster_candidate_is_an_improvement(
    pair: Callable[..., tuple[Path, Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, candidate, out = pair(14.0)
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--out", str(out))
    assert code == 0
    assert "\nIMPROVEMENT: 0 of 4 gates regressed, 1 improved\n" in stdout


def test_a_failed_check_and_a_new_family_come_first(
    pair: Callable[..., tuple[Path, Path, Path]],
    make_verdict: Callable[..., Verdict],
    capsys: pytest.CaptureFixture[str],
) -> None:
    faulty = make_verdict({"over-admission": Outcome.FAIL}, algorithm="anchored-window")
    base, candidate, out = pair(20.0, faulty)
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--out", str(out))
    assert code == 1
    lines = stdout.splitlines()
    assert lines[3] == "REGRESSION: 1 of 4 gates regressed, 0 improved"
    assert lines[4] == "  ! check over-admission: pass → fail: over-admission fail"
    assert lines[5] == "  ! limiter family changed: sliding-log → anchored-window"
    assert lines[6] == "  ! verdict: conformant → not conformant"
    assert re.match(r"  REGRESSION +check over-admission +pass → fail", lines[7])
    document = json.loads((out / "compare.json").read_text())
    assert document["family"] == {
        "base": "sliding-log", "candidate": "anchored-window", "parameters": [],
    }  # fmt: skip
    assert document["checks"][0]["id"] == "over-admission"
    page = (out / "compare.html").read_text()
    top = page[: page.index("<nav>")]
    assert "limiter family changed: sliding-log → anchored-window" in top
    assert "check over-admission: pass → fail" in top


def test_different_scenarios_cannot_be_compared(
    tmp_path: Path, make_run: RunMaker, latencies_ms: Callable[..., np.ndarray],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    base = make_run(tmp_path / "b", {"a": latencies_ms(20), "gone": latencies_ms(20)})
    candidate = make_run(tmp_path / "k", {"a": latencies_ms(20), "new": latencies_ms(20)})
    code, stdout, err = compare(capsys, str(base), str(candidate), "--out", str(tmp_path / "o"))
    assert (code, stdout) == (2, "")
    assert err == (
        "aisk-harness compare: error: the runs ran different scenarios (matching: a; only in "
        "BASE: gone; only in CANDIDATE: new); compare the matching cases with --cases NAME,...\n"
    )
    assert not (tmp_path / "o").exists()
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--cases", "a",
                              "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 0
    assert "p95 a" in stdout
    code, _, err = compare(capsys, str(base), str(candidate), "--cases", "a,gone")
    assert code == 2
    assert err.startswith("aisk-harness compare: error: --cases: gone cannot be compared (")


def test_too_few_answers_are_inconclusive_never_a_pass(
    tmp_path: Path, make_run: RunMaker, make_verdict: Callable[..., Verdict],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Checks that pass in both runs do not make a comparison whose latencies could not be
    told a pass: exit 3, naming what is missing."""
    base = make_run(tmp_path / "b", {"a": [20.0] * 5}, judged=make_verdict())
    candidate = make_run(tmp_path / "k", {"a": [20.0] * 5}, judged=make_verdict())
    out = tmp_path / "o"
    code, stdout, err = compare(capsys, str(base), str(candidate), "--out", str(out), "--explain")
    assert (code, err) == (3, "")
    assert "\nINCONCLUSIVE: 0 of 4 gates regressed, 0 improved, 1 inconclusive\n" in stdout
    assert re.search(
        r"\n  inconclusive +p95 a +p95 of admitted answers: 5 and 5 in the runs, and an interval "
        r"needs 72 in each; at least 72 per run would resolve ±10 %\n",
        stdout,
    )
    assert "\n  p95 a: no interval: detects no change; 72 answers per run resolve it\n" in stdout
    document = json.loads((out / "compare.json").read_text())
    assert (document["verdict"], document["exit_code"]) == ("inconclusive", 3)
    assert '<div class="banner none">INCONCLUSIVE' in (out / "compare.html").read_text()


def test_nothing_measured_cannot_be_compared(
    tmp_path: Path, make_run: RunMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_run(tmp_path / "b", {"a": []})
    candidate = make_run(tmp_path / "k", {"a": []})
    code, _, err = compare(capsys, str(base), str(candidate), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err == (
        "aisk-harness compare: error: nothing could be compared (p95 a: no admitted answers in "
        "either run)\n"
    )


def test_a_verdict_on_one_side_only_is_said(
    tmp_path: Path, make_run: RunMaker, latencies_ms: Callable[..., np.ndarray],
    make_verdict: Callable[..., Verdict], capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    base = make_run(tmp_path / "b", {"a": latencies_ms(20)}, judged=make_verdict())
    candidate = make_run(tmp_path / "k", {"a": latencies_ms(20, seed=3)})
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--out", str(tmp_path / "o"))
    assert code == 0
    assert re.search(r"\n  not compared +checks +CANDIDATE has no verdict\.json", stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-p95-increase", "10"], "--max-p95-increase '10': expected a percentage"),
        (["--max-capacity-drop", "x%"], "--max-capacity-drop 'x%': expected a percentage"),
        (["--cases", " , "], "--cases: expected case names separated by commas"),
    ],
)
def test_bad_options_are_one_line(
    pair: Callable[..., tuple[Path, Path, Path]], capsys: pytest.CaptureFixture[str],
    args: list[str], message: str,
) -> None:  # fmt: skip
    base, candidate, _out = pair()
    code, stdout, err = compare(capsys, str(base), str(candidate), *args)
    assert (code, stdout) == (2, "")
    assert err.startswith(f"aisk-harness compare: error: {message}")
    assert err.count("\n") == 1


def test_a_directory_that_is_not_a_run(
    pair: Callable[..., tuple[Path, Path, Path]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    base, _, _ = pair()
    (tmp_path / "empty").mkdir()
    code, _, err = compare(capsys, str(base), str(tmp_path / "empty"))
    assert code == 2
    assert err.count("\n") == 1
    assert "is not a run directory: run.json is missing" in err


def test_capacity_searches_compare_capacity(
    tmp_path: Path, make_capacity_run: RunMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_capacity_run(tmp_path / "b", [50, 100, 100], 1)
    candidate = make_capacity_run(tmp_path / "k", [40, 80, 80], 1)
    code, stdout, _ = compare(capsys, str(base), str(candidate), "--out", str(tmp_path / "o"))
    assert code == 1
    assert re.search(r"\n  REGRESSION +capacity +capacity 100\.0 → 80\.0 req/s \(-20\.0 %", stdout)
    document = json.loads((tmp_path / "o" / "compare.json").read_text())
    assert document["capacity"]["base_rps"]["value"] == 100.0
    assert (document["base"]["kind"], document["candidate"]["kind"]) == ("capacity", "capacity")
    assert "capacity.png" in (tmp_path / "o" / "compare.html").read_text()


def test_a_capacity_search_and_a_run_compare_where_their_cases_match(
    tmp_path: Path, make_run: RunMaker, make_capacity_run: RunMaker,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    search = make_capacity_run(tmp_path / "search", [50, 100, 100], 1)
    like = Case.model_validate(
        {"name": "capacity", "behaviour": {"kind": "hammer"}, "population": {"keys": 8}}
    )
    run = make_run(tmp_path / "run", {"capacity": [40.0] * 1200}, cases=[like])
    code, stdout, _ = compare(capsys, str(search), str(run), "--out", str(tmp_path / "o"))
    assert code == 0
    assert re.search(r"\n  not compared +capacity +only BASE is a capacity search\n", stdout)
    assert re.search(
        r"\n  no change +p95 capacity +p95 of admitted answers 40\.0 → 40\.0 ms", stdout
    )
    other = make_run(tmp_path / "other", {"answers": [40.0] * 100})
    code, _, err = compare(capsys, str(search), str(other))
    assert code == 2
    assert "(matching: none; only in BASE: capacity; only in CANDIDATE: answers)" in err
