# %% [markdown]
# # Capacity
# The highest throughput the target sustained within the SLO, from a stepped load with limits
# set high enough never to throttle. Latency percentiles come from every request of a step.

# %%
from pathlib import Path

from harness.capacity.result import read_result
from harness.report.capacity import capacity_figure, steps_frame
from harness.report.display import note, show, table

# %% tags=["parameters"]
run_dir = "."

# %%
capacity = read_result(Path(run_dir))
note(f"**{capacity.sentence}**")
note(f"How the load was offered: {capacity.model_note}")

# %%
show(capacity_figure(capacity), "capacity")

# %% [markdown]
# ## Steps

# %%
steps = steps_frame(capacity)
steps = steps.assign(error_rate=steps["error_rate"] * 100).rename(
    columns={"error_rate": "error_rate_%"}
)
table(steps, float_format="{:.3g}")
