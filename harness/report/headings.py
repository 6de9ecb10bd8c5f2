"""The words a report table shows over a frame's column, so that a table reads as a page and not
as a data dump: ``p95_sent_s`` is "p95 from the send (s)", ``admitted_earlier`` "admitted
earlier than promised". The frames keep their machine names (tests and notebooks use them);
only what a reader sees changes, in one place for every table of the report.
"""

from __future__ import annotations

import re

from harness.report.charts import OUTCOME_LABELS

__all__ = ["heading"]

# Names whose words are not their own spelling; every other column is read by the rules below.
WORDS = {
    "index": "step",
    "label": "step",
    "offered_unit": "offered in",
    "ok_rps": "admitted (req/s)",
    "sent_rps": "sent (req/s)",
    "error_rate": "error rate",
    "error_rate_%": "errors (%)",
    "within_slo": "within the SLO",
    "steady": "steady (in flight as Little's law says)",
    "littles_in_flight": "in flight by Little's law",
    "generator_cpu_percent": "load generator CPU (%)",
    "generator_bound": "limited by the load generator",
    "repeats": "runs",
    "empty_answer": "admitted, empty answer",
    "admitted_earlier": "admitted earlier than promised",
    "first_refusal_t_s": "first refusal (s into the run)",
    "reset_at": "reset_at announced",
    "reset_in_h": "reset in (h)",
    "resets": "distinct resets announced",
    "from_s": "from (s)",
    "to_s": "to (s)",
}
_PERCENTILE = re.compile(r"^p(?P<rank>\d+)(?P<sent>_sent)?_(?P<unit>ms|s)$")
_UNITS = {"_rps": "req/s", "_ns": "ns", "_ms": "ms", "_s": "s", "_h": "h", "_%": "%"}


def heading(column: object) -> str:
    """The words over ``column`` in a report table."""
    name = str(column)
    if name in WORDS:
        return WORDS[name]
    if name in OUTCOME_LABELS:
        return OUTCOME_LABELS[name]
    percentile = _PERCENTILE.match(name)
    if percentile:
        sent = " from the send" if percentile["sent"] else ""
        return f"p{percentile['rank']}{sent} ({percentile['unit']})"
    for suffix, unit in _UNITS.items():
        if name.endswith(suffix):
            return f"{name.removesuffix(suffix).replace('_', ' ')} ({unit})"
    return name.replace("_", " ")
