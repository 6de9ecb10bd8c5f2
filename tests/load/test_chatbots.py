"""The chatbot a case creates carries the case's limits in the API's own shape."""

from __future__ import annotations

from typing import Any

import pytest

from harness.api.chatbot import Model, QuotaLimitReset, RateLimitVaryBy
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import Case, parse_scenario


def case_of(**fields: Any) -> Case:
    document = {"cases": [{"name": "c", "behaviour": {"kind": "hammer"}, **fields}]}
    return parse_scenario(document).cases[0]


@pytest.mark.parametrize(
    ("vary_by", "expected"),
    [("ip", RateLimitVaryBy.IP), ("device", RateLimitVaryBy.DEVICE_ID)],
)
def test_the_rate_limit_is_copied_with_its_vary_by(vary_by: str, expected: str) -> None:
    rate_limit = {"limit": 7, "duration": "1m30s", "vary_by": vary_by, "throttle_message": "Wait"}
    chatbot = chatbot_for_case(case_of(rate_limit=rate_limit), "run-1")
    wire = chatbot.to_wire()
    assert wire["rate_limit"] == {
        "enabled": True,
        "setting": {
            "limit": 7,
            "duration": "1m30s",
            "throttle_message": "Wait",
            "vary_by": expected,
        },
    }


def test_vary_by_none_is_omitted_not_unspecified() -> None:
    chatbot = chatbot_for_case(case_of(rate_limit={"limit": 3, "duration": "2s"}), "run-1")
    assert chatbot.rate_limit is not None
    setting = chatbot.rate_limit.to_wire()["setting"]
    assert isinstance(setting, dict)
    assert "vary_by" not in setting
    assert setting == {
        "limit": 3,
        "duration": "2s",
        "throttle_message": "Too many messages in a row",
    }


def test_the_quota_is_daily() -> None:
    chatbot = chatbot_for_case(case_of(quota={"limit": 120}), "run-1")
    assert chatbot.to_wire()["quota_limit"] == {
        "enabled": True,
        "setting": {"limit": 120, "reset": QuotaLimitReset.DAILY},
    }


def test_a_case_without_limits_disables_both() -> None:
    wire = chatbot_for_case(case_of(), "run-1").to_wire()
    assert wire["rate_limit"] == {"enabled": False}
    assert wire["quota_limit"] == {"enabled": False}


def test_the_chatbot_is_named_after_the_run_and_case() -> None:
    chatbot = chatbot_for_case(case_of(), "run-9")
    assert chatbot.name == "aisk-harness run-9 c"
    assert chatbot.setting is not None
    assert chatbot.setting.model == Model.LITE
