"""The harness's options, added to Locust's own command line (also for plain ``locust -f``)."""

from __future__ import annotations

from typing import Any

__all__ = ["add_harness_options"]


def add_harness_options(parser: Any) -> None:
    group = parser  # Locust's own add_argument takes is_secret and include_in_web_ui; groups do not
    group.add_argument(
        "--aisk-scenario",
        default="",
        help="Scenario TOML file (default: the built-in scenario)",
    )
    group.add_argument(
        "--aisk-out",
        default="",
        help="Run directory for records and run.json (default: reports/runs/<UTC timestamp>)",
    )
    group.add_argument(
        "--aisk-api-key",
        default="",
        env_var="AISK_API_KEY",
        is_secret=True,
        help="Organisation API key (prefer the AISK_API_KEY environment variable)",
    )
    group.add_argument(
        "--aisk-second-api-key",
        default="",
        env_var="AISK_SECOND_API_KEY",
        is_secret=True,
        help="A second organisation's API key, for the access checks",
    )
    group.add_argument(
        "--aisk-org-timezone",
        default="Asia/Taipei",
        help="The organisation's time zone (IANA name); the quota day is counted in it",
    )
    group.add_argument(
        "--aisk-forwarded-for",
        action="store_true",
        default=False,
        help="Carry IP keys in X-Forwarded-For instead of binding source addresses",
    )
    group.add_argument(
        "--aisk-duration",
        default="",
        help="Run every case for this long (a Go duration such as '30s'), overriding the scenario",
    )
    group.add_argument(
        "--aisk-clients-per-key",
        type=int,
        default=0,
        help="Simulated clients per key in every case, overriding the scenario (0: as scenario)",
    )
    group.add_argument(
        "--aisk-max-requests",
        type=int,
        default=0,
        help="At most this many chat requests in the whole run, all workers together (0: no cap)",
    )
    group.add_argument(
        "--aisk-max-rps",
        type=float,
        default=0.0,
        help="At most this many chat requests per second, all workers together (0: no cap)",
    )
    group.add_argument(
        "--aisk-label",
        default="",
        help="What the run stands for (e.g. a release, 'v1.4.2'), stored in run.json",
    )
    group.add_argument("--aisk-run-id", default="", help="Run id (default: the UTC timestamp)")
    group.add_argument(
        "--aisk-emulator",
        default="",
        include_in_web_ui=False,
        help="JSON describing the embedded emulator (set by aisk-harness run)",
    )
    group.add_argument(
        "--aisk-autostop",
        action="store_true",
        default=False,
        include_in_web_ui=False,
        help="Quit once every case has run (set by aisk-harness run)",
    )
    group.add_argument(
        "--aisk-request-timeout",
        type=float,
        default=30.0,
        help="Seconds to wait for an answer before recording a timeout",
    )
