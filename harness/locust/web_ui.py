"""The web UI's aisk-harness tab: each Start, its directory and its verdict line.

Through Locust's own extension points (its ``extend_web_ui`` example): a tab whose table the web
UI fills from the ``extended_stats`` of its periodic ``/stats/requests`` poll, a link among its
downloads to ``/aisk-harness/runs`` (a plain page: every Start, its verdict, links to its
report.html, verdict.json and junit.xml), and those files served from the Start's directory.
"""

from __future__ import annotations

from locust.web import WebUI

import html
import json

from flask import Response, abort, request, send_from_directory

from harness.locust.starts import Start, Starts

__all__ = ["TAB", "show_starts"]

TAB = "aisk-harness"
RUNS_PATH = "/aisk-harness/runs"
SERVED = ("report.html", "verdict.json", "junit.xml")  # what the page links to, and nothing else
COLUMNS = (("run", "Start"), ("id", "Run id"), ("verdict", "Verdict"), ("directory", "Directory"))


def _row(start: Start) -> dict[str, str]:
    return {
        "run": str(start.number),
        "id": start.run_id,
        "verdict": start.state,
        "directory": str(start.run_dir),
    }


def _page(starts: Starts) -> str:
    rows = []
    for start in reversed(starts.starts):
        links = " ".join(
            f'<a href="runs/{start.number}/{name}">{name}</a>'
            for name in SERVED
            if (start.run_dir / name).exists()
        )
        cells = [html.escape(value) for value in _row(start).values()]
        rows.append(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + f"<td>{links}</td></tr>"
        )
    head = "".join(f"<th>{title}</th>" for _, title in COLUMNS) + "<th>Files</th>"
    body = "\n".join(rows) or '<tr><td colspan="5">no Start yet</td></tr>'
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>aisk-harness runs</title>"
        "<style>body{font-family:sans-serif}td,th{padding:4px 8px;text-align:left;"
        "border-bottom:1px solid #ccc}</style></head><body><h1>aisk-harness runs</h1>"
        f"<table><tr>{head}</tr>\n{body}</table></body></html>"
    )


def show_starts(web_ui: WebUI, starts: Starts) -> None:
    """The aisk-harness tab, page and files on ``web_ui``."""
    web_ui.template_args["extended_tabs"] = [{"title": "aisk-harness runs", "key": TAB}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB, "structure": [{"key": key, "title": title} for key, title in COLUMNS]}
    ]
    web_ui.template_args["extended_csv_files"] = [
        {"href": f".{RUNS_PATH}", "title": "aisk-harness runs: verdicts and reports"}
    ]
    app = web_ui.app
    assert app is not None  # made with the WebUI

    @app.after_request
    def with_starts(response: Response) -> Response:
        if not request.path.endswith("/stats/requests") or response.status_code != 200:
            return response
        stats = json.loads(response.get_data())
        rows = [_row(start) for start in reversed(starts.starts)]
        stats["extended_stats"] = [{"key": TAB, "data": rows}]
        response.set_data(json.dumps(stats))
        return response

    @app.route(RUNS_PATH)
    @web_ui.auth_required_if_enabled  # type: ignore[untyped-decorator]
    def runs_page() -> str:
        return _page(starts)

    @app.route(f"{RUNS_PATH}/<int:number>/<name>")
    @web_ui.auth_required_if_enabled  # type: ignore[untyped-decorator]
    def run_file(number: int, name: str) -> Response:
        if name not in SERVED or not 1 <= number <= len(starts.starts):
            abort(404)
        return send_from_directory(starts.starts[number - 1].run_dir.resolve(), name)
