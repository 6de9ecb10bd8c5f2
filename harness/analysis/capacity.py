# %% [markdown]
# # Capacity
# The highest load the target sustained within the SLO, with limits set high enough never to
# throttle: a stepped load of closed-loop users, or an open-model sweep of arrival rates whose
# latency is measured from each request's intended send instant. Percentiles come from every
# request of a step.

# %%
from pathlib import Path

from harness.capacity.result import read_result
from harness.report.capacity import capacity_figure, steps_frame
from harness.report.display import note, show, table
from harness.report.open_sweep import models_figure, open_steps_frame

# %% tags=["parameters"]
run_dir = "."

# %%
capacity = read_result(Path(run_dir))
note(f"**{capacity.sentence}**")
note(f"How the load was offered: {capacity.model_note}")

# %%
closed_dir = Path(run_dir) / "closed"  # capacity --model both: the closed search beside
if capacity.model == "open" and (closed_dir / "capacity.json").exists():
    closed = read_result(closed_dir)
    note(f"Closed loop (in `closed/`): **{closed.sentence}**")
    show(models_figure(closed, capacity), "both models")
    show(capacity_figure(closed), "closed")
if capacity.model == "open":
    show(capacity_figure(capacity), "capacity")
    baselines = [step for step in capacity.steps if step.offered_unit == "users"]
    for step in baselines:
        p95 = "-" if step.p95_s is None else f"{step.p95_s:.3g} s"
        note(f"{step.label} run ({step.offered:g} users, closed loop): "
             f"{step.throughput_rps:.1f} req/s completed, p95 {p95}")  # fmt: skip
else:
    show(capacity_figure(capacity), "capacity")

# %% [markdown]
# ## Steps

# %%
steps = open_steps_frame(capacity) if capacity.model == "open" else steps_frame(capacity)
steps = steps.assign(error_rate=steps["error_rate"] * 100).rename(
    columns={"error_rate": "error_rate_%"}
)
table(steps, float_format="{:.3g}")
