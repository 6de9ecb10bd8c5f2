"""The comparison as JUnit XML for CI: one test case per gate.

A regression is a failure; a gate that could not be compared, or was inconclusive, is skipped
with the reason; no change and improvements pass (an improvement says so in its ``system-out``).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from harness.compare.result import Comparison

__all__ = ["COMPARE_JUNIT_FILE", "write_compare_junit"]

COMPARE_JUNIT_FILE = "junit.xml"


def write_compare_junit(folder: Path, comparison: Comparison) -> Path:
    gates = comparison.gates
    suite = ET.Element(
        "testsuite",
        name="aisk-harness compare",
        tests=str(len(gates)),
        failures=str(sum(gate.outcome == "regression" for gate in gates)),
        skipped=str(sum(gate.outcome in ("not compared", "inconclusive") for gate in gates)),
    )
    for gate in gates:
        case = ET.SubElement(suite, "testcase", classname="compare", name=gate.subject)
        if gate.outcome == "regression":
            ET.SubElement(case, "failure", message=gate.summary)
        elif gate.outcome in ("not compared", "inconclusive"):
            ET.SubElement(case, "skipped", message=f"{gate.outcome}: {gate.summary}")
        else:
            ET.SubElement(case, "system-out").text = f"{gate.outcome}: {gate.summary}"
    path = folder / COMPARE_JUNIT_FILE
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path
