# %% [markdown]
# # Stages
# A performance run's staged cases: the arrival rate ramps, holds and spikes as the scenario's
# `stages` say. Per stage, from every request whose intended send instant fell in it: what was
# offered, sent and admitted, goodput, latency from the intended instant (coordinated omission
# corrected) beside the p95 from the actual send, and throttles, out-of-quota answers and errors
# as their own outcomes.

# %%
from pathlib import Path

from harness.report import frames
from harness.report.display import note, show, table
from harness.report.stages import stage_table, stages_figure
from harness.run.plan import read_plan
from harness.run.reader import read_records
from harness.run.stage_plan import staged_cases

# %% tags=["parameters"]
run_dir = "."

# %%
run = Path(run_dir)
cases = staged_cases(read_plan(run))
records = read_records(run, [*frames.REPORT_COLUMNS, "intended_send_mono_ns"])
chats = frames.load_chats(records)

# %%
for case in cases:
    note(f"**{case.name}** ({case.keys} keys; rates below are for all of them)")
    show(stages_figure(chats, case), f"stages-{case.name}")
    table(stage_table(chats, case), float_format="{:.3g}")
