# %% [markdown]
# # Overview
# What the run sent and met: the checks' outcomes, each case's answers, and latency and
# throughput over the run. Latency percentiles come from every request of a time bin.

# %%
import json
from pathlib import Path

from harness.report import charts, frames
from harness.report.display import note, show, table
from harness.report.unanswered import unanswered_note
from harness.run.plan import read_plan
from harness.run.reader import read_records
from harness.run.summary import summarise

# %% tags=["parameters"]
run_dir = "."

# %%
run = Path(run_dir)
plan = read_plan(run)
records = read_records(run, frames.REPORT_COLUMNS)
chats = frames.load_chats(records)
verdict_path = run / "verdict.json"
verdict = json.loads(verdict_path.read_text()) if verdict_path.exists() else None

# %% [markdown]
# ## Checks

# %%
if verdict is None:
    note("No `verdict.json`: this run was not judged (`aisk-harness check RUN_DIR` judges it).")
else:
    show(charts.checks_figure(frames.check_outcomes(verdict)), "checks")

# %% [markdown]
# ## Cases
# Requests per case and outcome, with latency percentiles (ms) from every request.

# %%
summary = summarise(records)
if summary.empty:
    note("No chat request was recorded.")
else:
    table(summary)
    if (unanswered := unanswered_note(chats)) is not None:
        note(unanswered)
    show(charts.outcomes_by_case_figure(summary), "outcomes-by-case")

# %% [markdown]
# ## Latency and throughput over time
# Requests binned by the instant they were sent; answers per second stacked by outcome.

# %%
if not chats.empty:
    width = frames.time_bin(float(chats["t_s"].max()))
    show(charts.over_time_figure(frames.over_time(chats, width), width), "latency-throughput")
