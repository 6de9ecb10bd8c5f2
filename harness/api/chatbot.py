"""The chatbot resource, field for field as the seeds document it.

Tolerant where we consume: every field has its proto3 zero value as default (a protojson server
omits or emits zero values at will) and unknown fields are kept. Round trips use
``model_dump(mode="json", by_alias=True, exclude_unset=True)`` so only what was read is written.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "Appearance",
    "AppearanceSetting",
    "Chatbot",
    "ChatbotBody",
    "ChatbotStatus",
    "Color",
    "DomainControl",
    "Int64Text",
    "Message",
    "Model",
    "Player",
    "Profile",
    "ProfileImage",
    "QuotaLimit",
    "QuotaLimitReset",
    "QuotaLimitSetting",
    "RateLimit",
    "RateLimitSetting",
    "RateLimitVaryBy",
    "Reference",
    "ResponseLength",
    "Setting",
    "Theme",
    "TokenBody",
    "WireModel",
    "known_member",
]


class WireModel(BaseModel):
    """Base of every body model: unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_wire(self) -> dict[str, object]:
        """The JSON object for this model, with only the fields that were set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def known_member(enum_type: type[Enum]) -> Callable[[Any], Any]:
    """A before-validator: a known value becomes the enum member, any other string stays text."""
    by_value = {member.value: member for member in enum_type}

    def to_member(value: Any) -> Any:
        return by_value.get(value, value) if isinstance(value, str) else value

    return to_member


def _decimal_text(value: Any) -> Any:
    # protojson writes int64 as a string but readers accept a number too.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Int64Text = Annotated[str, BeforeValidator(_decimal_text)]


class ChatbotStatus(StrEnum):
    UNSPECIFIED = "CHATBOT_STATUS_UNSPECIFIED"
    TRAINING = "CHATBOT_STATUS_TRAINING"
    READY = "CHATBOT_STATUS_READY"
    FAILED = "CHATBOT_STATUS_FAILED"


class Model(StrEnum):
    UNSPECIFIED = "MODEL_UNSPECIFIED"
    LITE = "MODEL_LITE"


class Theme(StrEnum):
    UNSPECIFIED = "CHATBOT_THEME_UNSPECIFIED"
    DARK = "CHATBOT_THEME_DARK"
    LIGHT = "CHATBOT_THEME_LIGHT"


class RateLimitVaryBy(StrEnum):
    UNSPECIFIED = "RATE_LIMIT_VARY_BY_UNSPECIFIED"
    IP = "RATE_LIMIT_VARY_BY_IP"
    DEVICE_ID = "RATE_LIMIT_VARY_BY_DEVICE_ID"


class QuotaLimitReset(StrEnum):
    UNSPECIFIED = "QUOTA_LIMIT_RESET_UNSPECIFIED"
    DAILY = "QUOTA_LIMIT_RESET_DAILY"


# Tolerant where we consume: a value this harness does not know (a newer model, say) is kept as
# its string instead of failing the whole answer; the emulator rejects unknown values itself.
OpenModel = Annotated[Model | str, BeforeValidator(known_member(Model))]
OpenTheme = Annotated[Theme | str, BeforeValidator(known_member(Theme))]
OpenVaryBy = Annotated[RateLimitVaryBy | str, BeforeValidator(known_member(RateLimitVaryBy))]
OpenReset = Annotated[QuotaLimitReset | str, BeforeValidator(known_member(QuotaLimitReset))]
OpenStatus = Annotated[ChatbotStatus | str, BeforeValidator(known_member(ChatbotStatus))]


class ResponseLength(WireModel):
    enabled: bool = False
    input: int = 0
    output: int = 0


class Setting(WireModel):
    model: OpenModel = Model.UNSPECIFIED
    character_role: str = ""
    character_description: str = ""
    creativity: float = 0.0
    response_length: ResponseLength | None = None


class ProfileImage(WireModel):
    id: str = ""
    url: str = ""  # output only
    name: str = ""  # output only


class Profile(WireModel):
    image: ProfileImage | None = None
    display_name: str = ""


class Message(WireModel):
    welcome: str = ""
    placeholder: str = ""


class Color(WireModel):
    user_message: str = ""
    widget: str = ""


class AppearanceSetting(WireModel):
    profile: Profile | None = None
    message: Message | None = None
    theme: OpenTheme = Theme.UNSPECIFIED
    color: Color | None = None


class Appearance(WireModel):
    enabled: bool = False
    setting: AppearanceSetting | None = None


class Player(WireModel):
    domain: str = ""


class Reference(WireModel):
    kb_selection: bool = False
    display_citation: bool = False
    player: Player | None = None


class DomainControl(WireModel):
    enabled: bool = False
    domains: list[str] = Field(default_factory=list)


class RateLimitSetting(WireModel):
    limit: int = 0
    # A Go duration string as configured ("1s", "1m"); the 429 metadata echoes it as "1m0s".
    duration: str = ""
    throttle_message: str = ""
    vary_by: OpenVaryBy = RateLimitVaryBy.UNSPECIFIED


class RateLimit(WireModel):
    enabled: bool = False
    setting: RateLimitSetting | None = None


class QuotaLimitSetting(WireModel):
    limit: int = 0
    reset: OpenReset = QuotaLimitReset.UNSPECIFIED


class QuotaLimit(WireModel):
    enabled: bool = False
    setting: QuotaLimitSetting | None = None


class Chatbot(WireModel):
    id: str = ""  # output only, a uuid
    name: str = ""
    status: OpenStatus = ChatbotStatus.UNSPECIFIED  # output only
    setting: Setting | None = None
    appearance: Appearance | None = None
    reference: Reference | None = None
    domain_control: DomainControl | None = None
    # Output only. An int64, which protojson writes as a decimal string.
    character_count: Int64Text = "0"
    rate_limit: RateLimit | None = None
    quota_limit: QuotaLimit | None = None
    created_at: str = ""  # output only, RFC 3339
    updated_at: str = ""  # output only, RFC 3339


class ChatbotBody(WireModel):
    """``{"chatbot": ...}``: the body of create, and the answer of create and get."""

    chatbot: Chatbot


class TokenBody(WireModel):
    """The answer of ``POST /bv/aisk/v1/chatbots/{id}/token``."""

    token: str = ""
