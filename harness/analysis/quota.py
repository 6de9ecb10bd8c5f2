# %% [markdown]
# # Quota
# Messages admitted against each chatbot's daily quota, the refusals once it ran out, and the
# `reset_at` the refusals announced (the next midnight of the organisation's time zone).

# %%
from pathlib import Path

from harness.report import frames, limit_charts
from harness.report.display import note, show, table
from harness.run.plan import read_plan
from harness.run.reader import read_records

# %% tags=["parameters"]
run_dir = "."

# %%
run = Path(run_dir)
plan = read_plan(run)
quotas = frames.quota_limits(plan)
chats = frames.load_chats(read_records(run, frames.REPORT_COLUMNS))

# %%
if not quotas:
    note("No case of this run has a quota.")
else:
    note(f"Organisation time zone: **{plan.org_timezone}**.")
    resets = frames.quota_resets(chats, quotas)
    table(resets, float_format="{:.2f}")
    show(limit_charts.quota_figure(frames.quota_consumption(chats, quotas), resets), "quota")
