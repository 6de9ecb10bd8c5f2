"""``run --chatbot ID``: the cases of chatbots that already exist, and what the run costs them.

The chatbots are read (GET) before anything else, their cases derived from their settings
(``harness.load.existing``); the run never changes or deletes them. Every admitted chat counts
against a chatbot's daily quota, so the most the run can admit is printed beside the quota, and a
run that could use it all up is refused unless ``--allow-quota-burn``.
"""

from __future__ import annotations

from typing import Any

from harness.api.chatbot import Chatbot
from harness.api.client import AiskClient
from harness.api.errors import AiskError
from harness.errors import ConfigError, TargetError
from harness.load.existing import quota_burn, quota_of, scenario_for_chatbots
from harness.load.scenario import Scenario

__all__ = ["add_existing_options", "existing_scenario"]

READ_TIMEOUT_S = 30.0


def add_existing_options(parser: Any) -> None:
    parser.add_argument(
        "--chatbot",
        action="append",
        default=[],
        metavar="ID",
        help="judge an existing chatbot as it is configured (repeatable; never changed or "
        "deleted; its token from $AISK_CHATBOT_TOKEN, or minted)",
    )
    parser.add_argument(
        "--allow-quota-burn",
        action="store_true",
        help="with --chatbot: run even where the run could use up a chatbot's daily quota",
    )


def _read(target: str, api_key: str, ids: list[str]) -> list[tuple[str, Chatbot]]:
    found = []
    with AiskClient(target, api_key, timeout=READ_TIMEOUT_S) as client:
        for chatbot_id in ids:
            try:
                found.append((chatbot_id, client.get_chatbot(chatbot_id)))
            except AiskError as exc:
                raise TargetError(f"--chatbot {chatbot_id}: cannot read it: {exc}") from None
    return found


def existing_scenario(args: Any, target: str, api_key: str) -> Scenario | None:
    """The scenario of ``--chatbot`` (None without it), its quota cost printed and checked."""
    ids: list[str] = list(dict.fromkeys(args.chatbot))
    if not ids:
        if args.allow_quota_burn:
            raise ConfigError("--allow-quota-burn needs --chatbot")
        return None
    if args.scenario:
        raise ConfigError("--scenario: not with --chatbot (the cases come from its settings)")
    chatbots = _read(target, api_key, ids)
    scenario = scenario_for_chatbots(chatbots, args.duration)
    refused = []
    for chatbot_id, chatbot in chatbots:
        burn, quota = quota_burn(scenario, chatbot_id), quota_of(chatbot)
        cases = sum(case.chatbot_id == chatbot_id for case in scenario.cases)
        share = f" of its daily quota of {quota}" if quota is not None else " (no quota)"
        print(f"chatbot {chatbot_id}: {cases} cases; the run admits at most {burn} chats{share}")
        if quota is not None and burn >= quota:
            refused.append(f"{chatbot_id} (up to {burn} of {quota})")
    if refused and not args.allow_quota_burn:
        raise ConfigError(
            f"--chatbot: the run could use up the daily quota of {', '.join(refused)}; its users "
            "would be refused for the rest of the day: shorten --duration, or --allow-quota-burn"
        )
    return scenario
