"""Body models: every documented example round-trips exactly, and unknown fields survive.

Fixtures named ``seed_*.json`` are the JSON examples of the seed pages, copied verbatim: the token
answer, the chatbot answer (identical on create and get), the schema-placeholder Status shown for
400/401/403/500/default, and the two 429 examples. The seeds give no example for the create
request, the chat request or the chat answer; ``schema_*.json`` fill every documented field of
those schemas with plausible values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.api import (
    ChatbotBody,
    ChatbotStatus,
    ChatRequest,
    ChatResponse,
    Model,
    RateLimitVaryBy,
    SourceFormat,
    SourceType,
    Status,
    Theme,
    TokenBody,
    WireModel,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


ROUND_TRIPS: list[tuple[str, type[WireModel]]] = [
    ("seed_token.json", TokenBody),
    ("seed_chatbot.json", ChatbotBody),
    ("seed_status.json", Status),
    ("seed_429_throttling.json", Status),
    ("seed_429_out_of_quota.json", Status),
    ("schema_chatbot_create.json", ChatbotBody),
    ("schema_chat_request.json", ChatRequest),
    ("schema_chat_response.json", ChatResponse),
]


@pytest.mark.parametrize(("name", "model"), ROUND_TRIPS)
def test_documented_bodies_round_trip_exactly(name: str, model: type[WireModel]) -> None:
    document = fixture(name)
    wire = model.model_validate(document).to_wire()
    # Compare as JSON documents: what a peer would read back.
    assert json.loads(json.dumps(wire)) == document


@pytest.mark.parametrize(("name", "model"), ROUND_TRIPS)
def test_bytes_and_objects_validate_alike(name: str, model: type[WireModel]) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert model.model_validate_json(raw) == model.model_validate(json.loads(raw))


def test_the_documented_chatbot_is_typed() -> None:
    chatbot = ChatbotBody.model_validate(fixture("seed_chatbot.json")).chatbot
    assert chatbot.status is ChatbotStatus.TRAINING
    assert chatbot.setting is not None
    assert chatbot.setting.model is Model.LITE
    assert chatbot.appearance is not None
    assert chatbot.appearance.setting is not None
    assert chatbot.appearance.setting.theme is Theme.DARK
    assert chatbot.rate_limit is not None
    assert chatbot.rate_limit.setting is not None
    assert chatbot.rate_limit.setting.vary_by is RateLimitVaryBy.IP
    assert chatbot.character_count == "string"  # an int64 travels as a JSON string
    assert chatbot.created_at == "2024-07-29T15:51:28.071Z"


def test_the_chat_answer_is_typed() -> None:
    answer = ChatResponse.model_validate(fixture("schema_chat_response.json"))
    kinds = [citation.type for citation in answer.citations]
    assert kinds == [
        SourceType.WEBSITE,
        SourceType.LOCAL_DRIVE,
        SourceType.VOD,
        SourceType.VIDEO,
        SourceType.AOD,
    ]
    local_drive = answer.citations[1].local_drive
    assert local_drive is not None
    assert local_drive.source_format is SourceFormat.PDF
    vod = answer.citations[2].vod
    assert vod is not None
    assert vod.duration_in_second == 93.5


def test_only_fields_that_were_set_are_written() -> None:
    request = ChatRequest(question="hi", kb_ids=[])
    assert request.to_wire() == {"question": "hi", "kb_ids": []}
    assert Status.model_validate({"code": 8}).to_wire() == {"code": 8}


def test_unknown_fields_are_kept_at_every_level() -> None:
    document = fixture("seed_chatbot.json")
    document["etag"] = "W/1"
    document["chatbot"]["future_flag"] = True
    document["chatbot"]["rate_limit"]["setting"]["burst"] = 3
    document["chatbot"]["appearance"]["setting"]["profile"]["image"]["width"] = 64
    assert ChatbotBody.model_validate(document).to_wire() == document

    answer = fixture("schema_chat_response.json")
    answer["message"] = "the streaming API's name for answer"
    answer["citations"][0]["score"] = 0.87
    assert ChatResponse.model_validate(answer).to_wire() == answer


def test_unknown_status_details_are_kept_as_they_came() -> None:
    document = fixture("seed_429_throttling.json")
    document["details"].append(
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retry_delay": "36.581786s"}
    )
    document["details"][0]["extra"] = {"nested": [1, 2]}
    status = Status.model_validate(document)
    assert status.to_wire() == document
    error_info = status.error_info()
    assert error_info is not None
    assert error_info.reason == "ERROR_REASON_PROMPT_THROTTLING"


def test_error_info_metadata_values_must_be_strings() -> None:
    # map<string, string>: a server writing "limit": 5 breaks the documented contract.
    document = fixture("seed_429_throttling.json")
    document["details"][0]["metadata"]["limit"] = 5
    with pytest.raises(ValueError, match="metadata"):
        Status.model_validate(document)
