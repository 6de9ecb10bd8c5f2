"""ThrottleInfo / QuotaInfo: the documented 429 metadata parsed, and every bad value named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.api import (
    ErrorInfo,
    MetadataError,
    QuotaInfo,
    Status,
    ThrottleInfo,
    format_duration,
    format_seconds,
)

FIXTURES = Path(__file__).parent / "fixtures"


def documented_error_info(name: str) -> ErrorInfo:
    status = Status.model_validate_json((FIXTURES / name).read_bytes())
    error_info = status.error_info()
    assert error_info is not None
    return error_info


def with_metadata(name: str, key: str, value: str | None) -> ErrorInfo:
    error_info = documented_error_info(name)
    metadata = dict(error_info.metadata)
    if value is None:
        del metadata[key]
    else:
        metadata[key] = value
    return error_info.model_copy(update={"metadata": metadata})


def test_documented_throttle_metadata() -> None:
    info = ThrottleInfo.from_error_info(documented_error_info("seed_429_throttling.json"))
    assert info.limit == 5
    assert info.duration_ns == 60_000_000_000
    assert info.throttle_message == "Too many messages in a row"
    assert info.vary_by == "RATE_LIMIT_VARY_BY_DEVICE_ID"
    assert info.wait_ns == 36_581_786_000
    assert info.wait_sec == 36.581786
    assert info.raw["duration"] == "1m0s"
    # The two forms of the wait agree, and both are written as Go writes them.
    assert format_duration(info.wait_ns) == info.raw["wait"]
    assert format_seconds(info.wait_ns) == info.raw["wait_sec"]


def test_documented_quota_metadata() -> None:
    info = QuotaInfo.from_error_info(documented_error_info("seed_429_out_of_quota.json"))
    assert info.limit == 100
    assert info.reset_at == datetime(2024, 1, 6, tzinfo=timezone(timedelta(hours=8)))
    assert info.reset_at.utcoffset() == timedelta(hours=8)
    assert info.reset_in_ns == 40_713_091_627_000
    assert info.reset_in_sec == 40713.091627
    assert format_duration(info.reset_in_ns) == "11h18m33.091627s"
    assert format_seconds(info.reset_in_ns) == info.raw["reset_in_sec"]


def test_vary_by_is_optional() -> None:
    info = ThrottleInfo.from_error_info(with_metadata("seed_429_throttling.json", "vary_by", None))
    assert info.vary_by == ""


@pytest.mark.parametrize("key", ["limit", "duration", "throttle_message", "wait", "wait_sec"])
def test_missing_throttle_metadata_is_named(key: str) -> None:
    with pytest.raises(MetadataError) as caught:
        ThrottleInfo.from_error_info(with_metadata("seed_429_throttling.json", key, None))
    assert caught.value.key == key
    assert caught.value.value is None
    assert repr(key) in str(caught.value)
    assert "missing" in str(caught.value)


@pytest.mark.parametrize("key", ["limit", "reset_at", "reset_in", "reset_in_sec"])
def test_missing_quota_metadata_is_named(key: str) -> None:
    with pytest.raises(MetadataError) as caught:
        QuotaInfo.from_error_info(with_metadata("seed_429_out_of_quota.json", key, None))
    assert caught.value.key == key
    assert repr(key) in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit", "five"),
        ("limit", "-5"),
        ("limit", "5.0"),
        ("limit", ""),
        ("limit", "\u0665"),  # ARABIC-INDIC DIGIT FIVE: str.isdigit() but not a decimal string
        ("duration", "1 minute"),
        ("duration", "60"),
        ("wait", "36.581786"),  # seconds without a unit: that is wait_sec's shape
        ("wait", ""),
        ("wait_sec", "36.581786s"),
        ("wait_sec", "nan"),
        ("wait_sec", "inf"),
        ("wait_sec", ""),
    ],
)
def test_garbled_throttle_metadata_is_named(key: str, value: str) -> None:
    with pytest.raises(MetadataError) as caught:
        ThrottleInfo.from_error_info(with_metadata("seed_429_throttling.json", key, value))
    assert caught.value.key == key
    assert caught.value.value == value
    assert repr(key) in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit", "100 messages"),
        ("reset_at", "2024-01-06 00:00:00+08:00"),
        ("reset_at", "2024-01-06"),
        ("reset_at", "1704470400"),
        ("reset_in", "11:18:33.091627"),
        ("reset_in_sec", "40713,091627"),
    ],
)
def test_garbled_quota_metadata_is_named(key: str, value: str) -> None:
    with pytest.raises(MetadataError) as caught:
        QuotaInfo.from_error_info(with_metadata("seed_429_out_of_quota.json", key, value))
    assert caught.value.key == key
    assert repr(value) in str(caught.value)


def test_raw_metadata_is_a_copy() -> None:
    error_info = documented_error_info("seed_429_throttling.json")
    info = ThrottleInfo.from_error_info(error_info)
    error_info.metadata["wait"] = "1s"
    assert info.raw["wait"] == "36.581786s"
