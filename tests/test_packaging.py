"""The wheel holds everything ``run`` needs: installed outside the checkout, the main job runs.

The wheel is built once from a copy of the package's sources (nothing is written into the
checkout) and installed into a fresh venv outside it. That venv reuses this one's dependencies
through a ``.pth`` line naming this venv's site-packages: a plain path, so this venv's own
``.pth`` files, among them the editable install's finder that maps ``harness`` to the checkout,
are not run there, and ``harness`` can only come from the wheel (asserted). Nothing is
downloaded: no build isolation, no index.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import clean_env

from harness.conformance.verdict import EXIT_CODES, Status

pytestmark = pytest.mark.locust

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "harness")
BUILD_TIMEOUT_S = 240
RUN_TIMEOUT_S = 240


@dataclass(frozen=True)
class Installed:
    """A venv outside the checkout with the wheel installed, and a working directory there."""

    venv: Path
    cwd: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self) -> dict[str, str]:
        env = clean_env()
        env.pop("PYTHONPATH", None)  # the checkout must not reach the installed harness
        return env

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "aisk-harness"), *args],
            cwd=self.cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _build_wheel(work: Path) -> Path:
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(work / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    (wheel,) = (work / "dist").glob("aisk_harness-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("packaging")
    assert not work.resolve().is_relative_to(ROOT)
    wheel = _build_wheel(work)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    fresh = Path(
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # Installed before the .pth exists: pip must not see this venv's (editable) aisk-harness.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    (fresh / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    cwd = work / "elsewhere"
    cwd.mkdir()
    return Installed(venv, cwd)


def test_the_installed_wheel_runs_the_main_job_from_outside_the_checkout(
    installed: Installed,
) -> None:
    # One test, so that `make test` builds and installs the wheel once, whatever its workers.
    _assert_harness_comes_from_the_wheel(installed)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = installed.run("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"aisk-harness {version}"), done.stderr
    _assert_the_built_in_scenarios_are_listed_and_printed(installed)
    out = installed.cwd / "run"
    done = installed.run("run", "--duration", "5s", "--out", str(out), timeout=RUN_TIMEOUT_S)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    verdict = json.loads((out / "verdict.json").read_text())
    assert done.returncode == EXIT_CODES[Status(verdict["status"])], done.stderr[-3000:]
    assert (out / "report.html").is_file(), done.stdout[-3000:]
    assert (out / "locust.html").is_file()
    assert (out / "junit.xml").is_file()


def _assert_harness_comes_from_the_wheel(installed: Installed) -> None:
    probe = (
        "import json, harness, harness.cli.load_job as job, harness.report.notebooks as nb;"
        "print(json.dumps([harness.__file__, str(job.LOCUSTFILES), str(nb.NOTEBOOK_DIR)]))"
    )
    done = subprocess.run(
        [str(installed.python), "-c", probe],
        cwd=installed.cwd,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    package, locustfiles, notebooks = (Path(path) for path in json.loads(done.stdout))
    assert package.is_relative_to(installed.venv), package
    assert not package.is_relative_to(ROOT), package
    for folder, names in ((locustfiles, ("aisk.py", "capacity.py")), (notebooks, ("overview.py",))):
        assert folder.is_relative_to(installed.venv), folder
        for name in names:
            assert (folder / name).is_file(), folder / name


def _assert_the_built_in_scenarios_are_listed_and_printed(installed: Installed) -> None:
    shipped = ROOT / "harness" / "load" / "scenarios"
    listed = installed.run("scenarios")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.split("\n\n")[0].splitlines()]
    assert names == sorted(path.stem for path in shipped.glob("*.toml")), listed.stdout
    printed = installed.run("scenarios", "default")
    expected = (shipped / "default.toml").read_text()
    assert (printed.returncode, printed.stdout) == (0, expected), printed.stderr
