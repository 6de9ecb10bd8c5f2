"""The options of a run, declared once: ``aisk-harness run --NAME`` and ``locust --aisk-NAME``.

``aisk-harness run`` turns them into ``RunSettings`` (``settings.py``) and hands Locust one file;
a plain ``locust -f locustfiles/aisk.py`` run takes the same options spelled ``--aisk-NAME``
(``harness/locust/options.py`` adds them to Locust's parser) and builds the same settings from
them. Either way a bad value is one line naming the option as it was spelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from harness.api.timestamps import DEFAULT_ORG_TIMEZONE

__all__ = [
    "API_KEY_ENV",
    "CHATBOT_TOKEN_ENV",
    "DEFAULT_READY_TIMEOUT",
    "DEFAULT_REQUEST_TIMEOUT_S",
    "RUN_OPTIONS",
    "SECOND_API_KEY_ENV",
    "ArgumentAdder",
    "RunOption",
    "add_run_options",
    "option_values",
]

API_KEY_ENV = "AISK_API_KEY"
SECOND_API_KEY_ENV = "AISK_SECOND_API_KEY"
CHATBOT_TOKEN_ENV = "AISK_CHATBOT_TOKEN"  # run --chatbot: a token of the existing chatbot
DEFAULT_REQUEST_TIMEOUT_S = 30.0
DEFAULT_READY_TIMEOUT = "5m"


class ArgumentAdder(Protocol):
    """What both parsers offer: argparse's and Locust's (which takes more keywords)."""

    def add_argument(self, *flags: str, **options: Any) -> object: ...


@dataclass(frozen=True, slots=True)
class RunOption:
    """One option: ``name`` is the settings field, ``--name`` / ``--aisk-name`` its spellings.

    ``secret``: never shown in Locust's web UI (its page carries default values in clear) and
    never taken from the environment by the parser itself (the session reads the environment).
    """

    name: str
    help: str
    type: Callable[[str], Any] | None = str
    default: object = None
    metavar: str | None = None
    flag: bool = False
    secret: bool = False
    locust_aliases: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption(
        "scenario",
        "a built-in scenario's name (`aisk-harness scenarios` lists them) or a scenario TOML "
        "file (default: the built-in 'default')",
        metavar="NAME|FILE",
    ),
    RunOption("out", "run directory (default: reports/runs/<UTC stamp>)", metavar="DIR"),
    RunOption(
        "duration",
        "run every case for this long, e.g. '30s' (default: the scenario's)",
        metavar="T",
    ),
    RunOption(
        "users",
        "simulated clients per key in every case (default: the scenario's)",
        type=int,
        metavar="N",
        locust_aliases=("clients-per-key",),
    ),
    RunOption(
        "max-requests",
        "at most N chat requests in the whole run, all processes together",
        type=int,
        metavar="N",
    ),
    RunOption(
        "max-rps",
        "at most R chat requests per second over the run, all processes together",
        type=float,
        metavar="R",
    ),
    RunOption(
        "request-timeout",
        "seconds before a request is recorded as a timeout (default: "
        f"{DEFAULT_REQUEST_TIMEOUT_S:g})",
        type=float,
        metavar="S",
    ),
    RunOption(
        "ready-timeout",
        "how long to wait for new chatbots to be READY, a Go duration "
        f"(default: {DEFAULT_READY_TIMEOUT})",
        metavar="T",
    ),
    RunOption(
        "org-timezone",
        f"IANA zone of the organisation's quota day (default: {DEFAULT_ORG_TIMEZONE})",
        metavar="ZONE",
    ),
    RunOption(
        "forwarded-for",
        "carry IP keys in X-Forwarded-For instead of binding source "
        "addresses (for a target behind a trusted proxy)",
        type=None,
        flag=True,
    ),
    RunOption(
        "label", "a label for this run in comparisons and histories, e.g. 'v1.4.2'", metavar="TEXT"
    ),
    RunOption(
        "api-key",
        f"organisation API key (prefer ${API_KEY_ENV}: options show in ps)",
        metavar="KEY",
        secret=True,
    ),
    RunOption(
        "second-api-key",
        f"another organisation's key, for the access checks (prefer ${SECOND_API_KEY_ENV})",
        metavar="KEY",
        secret=True,
    ),
)


def add_run_options(
    parser: ArgumentAdder,
    prefix: str = "",
    extra: Callable[[RunOption], dict[str, Any]] = lambda option: {},
    names: tuple[str, ...] | None = None,
) -> None:
    """Add the run options (every one, or ``names``) to ``parser`` as ``--{prefix}{name}``;
    ``extra`` gives each option's parser-specific keywords (Locust's ``include_in_web_ui``)."""
    for option in RUN_OPTIONS:
        if names is not None and option.name not in names:
            continue
        aliases = option.locust_aliases if prefix else ()
        flags = [f"--{prefix}{name}" for name in (option.name, *aliases)]
        dest = _dest(prefix, option)
        keywords: dict[str, Any] = {"dest": dest, "help": option.help, **extra(option)}
        if option.flag:
            keywords |= {"action": "store_true", "default": False}
        else:
            keywords |= {"type": option.type, "default": option.default, "metavar": option.metavar}
        parser.add_argument(*flags, **keywords)


def _dest(prefix: str, option: RunOption) -> str:
    return prefix.replace("-", "_") + option.dest


def option_values(parsed: object, prefix: str = "") -> Mapping[str, Any]:
    """The run options' values from a parsed namespace, by option name ("max-rps"); an option
    the command does not offer is None (its default)."""
    return {option.name: getattr(parsed, _dest(prefix, option), None) for option in RUN_OPTIONS}
