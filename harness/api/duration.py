"""Go ``time.Duration`` text codec.

The service under test is a Go program: ``duration``, ``wait`` and ``reset_in`` in its 429 metadata
are ``time.Duration.String()`` values, and a configured ``duration`` such as ``"1m"`` is read with
``time.ParseDuration``. Both are ported here line for line (``golang/go:src/time/time.go``), so a
canonicality check is simply ``format_duration(parse_duration(s)) == s``.
"""

from __future__ import annotations

__all__ = [
    "CANONICAL_DURATION",
    "MAX_DURATION_NS",
    "MIN_DURATION_NS",
    "DurationError",
    "format_duration",
    "format_seconds",
    "parse_duration",
]

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

MAX_DURATION_NS = (1 << 63) - 1
MIN_DURATION_NS = -(1 << 63)

# Go accepts both the micro sign U+00B5 and the Greek mu U+03BC, and prints only U+00B5.
_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,
    "\u03bcs": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}


# Exactly the texts ``format_duration`` produces for non-negative values: "0s", "999ns",
# "1.5µs", "500ms", "59.9s", "1m0s", "1h0m0s". Lets a column of millions of texts be judged
# canonical by one vectorised match instead of formatting each value. RE2 and Python's ``re``
# read it alike: ASCII digits spelt ``[0-9]`` (Python's ``\d`` takes any Unicode digit too).
CANONICAL_DURATION = (
    r"^(?:0s"
    r"|[1-9][0-9]{0,2}ns"
    r"|[1-9][0-9]{0,2}(?:\.[0-9]{0,2}[1-9])?µs"
    r"|[1-9][0-9]{0,2}(?:\.[0-9]{0,5}[1-9])?ms"
    r"|(?:[1-9][0-9]*h[1-5]?[0-9]m[1-5]?[0-9]|(?:[1-5][0-9]|[1-9])m[1-5]?[0-9]|[1-5][0-9]|[1-9])"
    r"(?:\.[0-9]{0,8}[1-9])?s)$"
)


class DurationError(ValueError):
    """A text that Go's ``time.ParseDuration`` would reject, or a value out of int64 range."""


def _is_digit(char: str) -> bool:
    # Go compares bytes with '0'..'9'; str.isdigit() would also accept other scripts' digits.
    return "0" <= char <= "9"


def _fmt_frac(value: int, prec: int) -> tuple[str, int]:
    """Go's ``fmtFrac``: the fraction of value/10**prec without trailing zeros, and the quotient."""
    digits: list[str] = []
    printed = False
    for _ in range(prec):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(chr(ord("0") + digit))
        value //= 10
    if printed:
        digits.append(".")
    return "".join(reversed(digits)), value


def format_duration(ns: int) -> str:
    """Format nanoseconds exactly as Go's ``time.Duration.String()`` does."""
    if not MIN_DURATION_NS <= ns <= MAX_DURATION_NS:
        raise DurationError(f"{ns} ns is outside Go's time.Duration range (int64 nanoseconds)")
    magnitude = -ns if ns < 0 else ns
    sign = "-" if ns < 0 else ""
    if magnitude < SECOND:
        if magnitude == 0:
            return "0s"
        if magnitude < MICROSECOND:
            unit, prec = "ns", 0
        elif magnitude < MILLISECOND:
            unit, prec = "\u00b5s", 3
        else:
            unit, prec = "ms", 6
        frac, whole = _fmt_frac(magnitude, prec)
        return f"{sign}{whole}{frac}{unit}"
    frac, whole = _fmt_frac(magnitude, 9)
    text = f"{whole % 60}{frac}s"
    whole //= 60
    if whole > 0:
        text = f"{whole % 60}m{text}"
        whole //= 60
        if whole > 0:
            text = f"{whole}h{text}"
    return sign + text


def format_seconds(ns: int) -> str:
    """Format as Go's ``fmt.Sprintf("%f", d.Seconds())``: the shape of ``wait_sec``."""
    whole, rest = divmod(ns, SECOND) if ns >= 0 else (-((-ns) // SECOND), -((-ns) % SECOND))
    # d.Seconds() is float64(sec) + float64(nsec)/1e9 in Go; repeat that arithmetic exactly.
    seconds = float(whole) + float(rest) / 1e9
    return f"{seconds:.6f}"


def _leading_int(text: str) -> tuple[int, str]:
    value = 0
    index = 0
    while index < len(text) and _is_digit(text[index]):
        if value > (1 << 63) // 10:
            raise OverflowError
        value = value * 10 + ord(text[index]) - ord("0")
        if value > 1 << 63:
            raise OverflowError
        index += 1
    return value, text[index:]


def _leading_fraction(text: str) -> tuple[int, float, str]:
    value = 0
    scale = 1.0
    overflow = False
    index = 0
    while index < len(text) and _is_digit(text[index]):
        char = text[index]
        index += 1
        if overflow:
            continue
        if value > ((1 << 63) - 1) // 10:
            overflow = True
            continue
        candidate = value * 10 + ord(char) - ord("0")
        if candidate > 1 << 63:
            overflow = True
            continue
        value = candidate
        scale *= 10
    return value, scale, text[index:]


def _leading_unit(rest: str, text: str) -> tuple[int, str]:
    """Go's "Consume unit." step: the characters up to the next [0-9.], as nanoseconds."""
    end = 0
    while end < len(rest) and not (rest[end] == "." or _is_digit(rest[end])):
        end += 1
    if end == 0:
        raise DurationError(
            f"missing unit in duration {text!r}: expected one of ns, us, ms, s, m, h"
        )
    unit_name, rest = rest[:end], rest[end:]
    unit = _UNITS.get(unit_name)
    if unit is None:
        raise DurationError(
            f"unknown unit {unit_name!r} in duration {text!r}: expected one of ns, us, ms, s, m, h"
        )
    return unit, rest


def parse_duration(text: str) -> int:
    """Parse a duration exactly as Go's ``time.ParseDuration`` does; return nanoseconds."""
    invalid = DurationError(
        f"invalid duration {text!r}: expected a Go duration such as '1m', '30s' or '1m0s'"
    )
    rest = text
    negative = False
    if rest and rest[0] in "+-":
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[0] == "." or _is_digit(rest[0])):
            raise invalid
        before = len(rest)
        try:
            whole, rest = _leading_int(rest)
        except OverflowError:
            raise invalid from None
        consumed_whole = before != len(rest)
        frac, scale, consumed_frac = 0, 1.0, False
        if rest and rest[0] == ".":
            rest = rest[1:]
            before = len(rest)
            frac, scale, rest = _leading_fraction(rest)
            consumed_frac = before != len(rest)
        if not consumed_whole and not consumed_frac:
            raise invalid
        unit, rest = _leading_unit(rest, text)
        if whole > (1 << 63) // unit:
            raise invalid
        whole *= unit
        if frac > 0:
            # Go: float64 keeps nanosecond accuracy for fractions of up to an hour.
            whole += int(float(frac) * (float(unit) / scale))
            if whole > 1 << 63:
                raise invalid
        total += whole
        if total > 1 << 63:
            raise invalid
    if negative:
        return -total
    if total > MAX_DURATION_NS:
        raise invalid
    return total
