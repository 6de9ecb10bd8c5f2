"""Each Start's run id and directory (``harness.locust.starts``, which imports gevent but not
Locust: no process is patched), on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.locust.starts import Starts

INSTANT = datetime(2026, 12, 7, 20, 30, 0, 123456, tzinfo=UTC)


def test_each_web_start_gets_a_fresh_directory_even_within_one_second(tmp_path: Path) -> None:
    starts = Starts(web=True, now=lambda: INSTANT)
    first, second = starts.next(str(tmp_path)), starts.next(str(tmp_path))
    assert first.run_dir == tmp_path / "20261207T203000Z"
    assert second.run_dir == tmp_path / "20261207T203000Z-2"
    assert first.run_dir.is_dir()
    assert second.run_dir.is_dir()
    assert [start.number for start in starts.starts] == [1, 2]


def test_a_web_start_never_reuses_a_directory_that_exists(tmp_path: Path) -> None:
    (tmp_path / "20261207T203000Z" / "records").mkdir(parents=True)  # an earlier run's
    start = Starts(web=True, now=lambda: INSTANT).next(str(tmp_path))
    assert start.run_dir == tmp_path / "20261207T203000Z-2"


def test_a_given_run_id_is_the_first_starts_and_numbered_after() -> None:
    starts = Starts(web=False, run_id="nightly", now=lambda: INSTANT)
    assert starts.next("a").run_id == "nightly"
    assert starts.next("b").run_id == "nightly-2"
    assert Starts(web=False, now=lambda: INSTANT).next("c").run_id == "20261207T203000123456Z"


def test_headless_runs_in_the_directory_given_unless_it_holds_a_run(tmp_path: Path) -> None:
    starts = Starts(web=False, now=lambda: INSTANT)
    assert starts.next(str(tmp_path / "new")).run_dir == tmp_path / "new"
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "recording.json").write_text("{}")
    with pytest.raises(ConfigError, match="already holds a run"):
        starts.next(str(tmp_path / "old"))


def test_a_refused_start_leaves_no_empty_directory(tmp_path: Path) -> None:
    starts = Starts(web=True, now=lambda: INSTANT)
    start = starts.next(str(tmp_path))
    starts.forget(start)
    assert starts.starts == []
    assert list(tmp_path.iterdir()) == []


def test_a_start_that_cannot_make_its_directory_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot make a run directory in"):
        Starts(web=True, now=lambda: INSTANT).next(str(blocker))
