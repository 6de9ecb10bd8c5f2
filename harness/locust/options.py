"""The harness's options on Locust's command line and web UI (``locust -f locustfiles/aisk.py``).

``aisk-harness run`` hands Locust one option, ``--aisk-settings FILE``; a plain Locust run takes
the run options of ``harness.load.options`` spelled ``--aisk-NAME`` (listed by ``python
locustfiles/aisk.py --help``: Locust prints its own ``--help`` before it loads a locustfile), and
the web UI shows them in its form, secrets
left out: an API key comes from the environment (or the command line), never from the page.
"""

from __future__ import annotations

from locust.argument_parser import LocustArgumentParser

from argparse import Namespace
from pathlib import Path
from typing import TypedDict, cast

from harness.load.options import RunOption, add_run_options, option_values

__all__ = [
    "LOCUST_PREFIX",
    "LocustOptionValues",
    "add_locust_options",
    "locust_option_values",
    "print_locust_options",
    "settings_file",
    "spell",
]

LOCUST_PREFIX = "aisk-"


def spell(name: str) -> str:
    """An option as a Locust user types it."""
    return f"--{LOCUST_PREFIX}{name}"


def _locust_keywords(option: RunOption) -> dict[str, bool]:
    return {"include_in_web_ui": not option.secret, "is_secret": option.secret}


def add_locust_options(parser: LocustArgumentParser) -> None:
    # The web UI serves the run's settings and controls its load: loopback only, unless
    # --web-host says otherwise (Locust itself listens on every interface by default).
    parser.set_defaults(web_host="127.0.0.1")
    # On the parser itself: Locust's argument groups do not take include_in_web_ui.
    add_run_options(parser, LOCUST_PREFIX, _locust_keywords)
    parser.add_argument(
        "--aisk-settings",
        default="",
        include_in_web_ui=False,
        metavar="FILE",
        help="the settings file aisk-harness run writes (replaces every other --aisk- option)",
    )
    parser.add_argument(
        "--aisk-source-ip",
        default="",
        include_in_web_ui=False,
        metavar="LIST",
        help="a worker's source addresses for IP keys: IPv4 addresses or a CIDR block, "
        "comma-separated (default: its non-loopback IPv4 addresses)",
    )
    parser.add_argument(
        "--aisk-run-id",
        default="",
        include_in_web_ui=False,
        metavar="ID",
        help="run id (default: the UTC time the test starts)",
    )


def print_locust_options() -> None:
    """Print the ``--aisk-*`` options, which ``locust --help`` cannot show (it prints its help
    before loading the locustfile that adds them)."""
    parser = LocustArgumentParser(
        prog="locust -f locustfiles/aisk.py",
        description="aisk-harness options for a plain Locust run (with Locust's own options).",
    )
    add_locust_options(parser)
    parser.print_help()


# Each run option's value as Locust hands it over: of the option's type as the command line parsed
# it, None when not given, or the form's text where the web UI set an option that had no default
# (Locust converts a form value to the type of the value it replaces, and None has none). Its keys
# and types follow ``RUN_OPTIONS`` (tests/locust/test_options.py holds them to it); the settings
# read every value through ``run_settings``, which takes text for a number too. Not total: without
# parsed options the lead reads an empty mapping.
LocustOptionValues = TypedDict(
    "LocustOptionValues",
    {
        "scenario": str | None,
        "out": str | None,
        "duration": str | None,
        "users": int | str | None,
        "max-requests": int | str | None,
        "max-rps": float | str | None,
        "request-timeout": float | str | None,
        "ready-timeout": str | None,
        "org-timezone": str | None,
        "forwarded-for": bool,
        "label": str | None,
        "api-key": str | None,
        "second-api-key": str | None,
    },
    total=False,
)


def locust_option_values(options: Namespace) -> LocustOptionValues:
    """The run options' values from Locust's parsed options, by option name."""
    return cast(LocustOptionValues, dict(option_values(options, LOCUST_PREFIX)))


def settings_file(options: Namespace) -> Path | None:
    text = getattr(options, "aisk_settings", "")
    return Path(text) if text else None
