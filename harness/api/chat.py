"""The ``prompts:chat`` request and answer, field for field as the seeds document them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, Field

from harness.api.chatbot import WireModel, known_member

__all__ = [
    "ChatMetadata",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "Device",
    "LocalDrive",
    "MediaContent",
    "MediaSource",
    "Period",
    "SourceFormat",
    "SourceType",
    "WebLink",
]


class Device(WireModel):
    id: str = ""  # unique for each device: the rate-limit key under RATE_LIMIT_VARY_BY_DEVICE_ID
    platform: str = ""  # ios | android | windows
    category: str = ""  # desktop | mobile | tablet
    browser: str = ""  # e.g. "Chrome 105"


class ChatMetadata(WireModel):
    session_id: str = ""
    conversation_id: str = ""
    language: str = ""
    device: Device | None = None


class ChatRequest(WireModel):
    question: str = ""
    kb_ids: list[str] = Field(default_factory=list)
    metadata: ChatMetadata | None = None


class SourceType(StrEnum):
    UNSPECIFIED = "SOURCE_TYPE_UNSPECIFIED"
    WEBSITE = "SOURCE_TYPE_WEBSITE"
    LOCAL_DRIVE = "SOURCE_TYPE_LOCAL_DRIVE"
    VOD = "SOURCE_TYPE_VOD"
    VIDEO = "SOURCE_TYPE_VIDEO"
    SUBTITLE = "SOURCE_TYPE_SUBTITLE"
    TEXT = "SOURCE_TYPE_TEXT"
    AOD = "SOURCE_TYPE_AOD"


class SourceFormat(StrEnum):
    UNSPECIFIED = "SOURCE_FORMAT_UNSPECIFIED"
    WEBSITE = "SOURCE_FORMAT_WEBSITE"
    PDF = "SOURCE_FORMAT_PDF"
    DOC = "SOURCE_FORMAT_DOC"
    DOCX = "SOURCE_FORMAT_DOCX"
    VOD_TO_TEXT = "SOURCE_FORMAT_VOD_TO_TEXT"
    VIDEO_TO_TEXT = "SOURCE_FORMAT_VIDEO_TO_TEXT"
    SRT = "SOURCE_FORMAT_SRT"
    VTT = "SOURCE_FORMAT_VTT"
    TEXT = "SOURCE_FORMAT_TEXT"
    AOD_TO_TEXT = "SOURCE_FORMAT_AOD_TO_TEXT"


class LocalDrive(WireModel):
    file_name: str = ""
    source_format: Annotated[SourceFormat | str, BeforeValidator(known_member(SourceFormat))] = (
        SourceFormat.UNSPECIFIED
    )
    download_url: str = ""  # output only


class WebLink(WireModel):
    url: str = ""
    title: str = ""
    thumbnail_url: str = ""


class Period(WireModel):
    start_time: str = ""
    end_time: str = ""


class MediaContent(WireModel):
    content: str = ""
    period: Period | None = None


class MediaSource(WireModel):
    """The shape shared by the ``vod``, ``video`` and ``aod`` citation sources."""

    contents: list[MediaContent] = Field(default_factory=list)
    resource_id: str = ""
    name: str = ""
    thumbnail_url: str = ""
    duration_in_second: float = 0.0


class Citation(WireModel):
    type: Annotated[SourceType | str, BeforeValidator(known_member(SourceType))] = (
        SourceType.UNSPECIFIED
    )
    local_drive: LocalDrive | None = None
    web_link: WebLink | None = None
    vod: MediaSource | None = None
    source_id: str = ""
    video: MediaSource | None = None
    aod: MediaSource | None = None


class ChatResponse(WireModel):
    answer: str = ""
    citations: list[Citation] = Field(default_factory=list)
