# %% [markdown]
# # Rate limits
# For the most throttled key of each rate-limited case: every request by outcome over time, and
# the admissions surely inside one window (each request placed anywhere in its [send, answer]
# interval, the window taken slightly shorter than the configured duration) against `limit`.
# A correct sliding log never crosses the dashed line; fixed windows and token buckets may reach
# twice the limit across a window boundary (dotted line, drawn when the run's limiter is not
# known to be a sliding log).

# %%
import json
from pathlib import Path

from harness.conformance.spec import CHECK_COLUMNS, check_input
from harness.report import frames, limit_charts, promises
from harness.report.display import note, show, slug, table
from harness.run.plan import read_plan
from harness.run.reader import read_records

# %% tags=["parameters"]
run_dir = "."

# %%
MAX_KEYS = 12  # figures of single keys: one per case, at most this many
run = Path(run_dir)
plan = read_plan(run)
limits = frames.rate_limits(plan)
chats = frames.load_chats(read_records(run, frames.REPORT_COLUMNS))
verdict_path = run / "verdict.json"
family = (
    json.loads(verdict_path.read_text()).get("algorithm", "undetermined")
    if verdict_path.exists()
    else "undetermined"
)
keys = frames.pick_keys(chats, limits, per_case=1).head(MAX_KEYS)

# %% [markdown]
# ## Admitted and throttled, per key

# %%
if keys.empty:
    note("No request of this run was throttled: there is no rate limit to picture.")
else:
    shown = keys.assign(key=keys["key"].replace("", "(the whole chatbot)"))
    table(shown.rename(columns={"throttled": "throttled (of its requests)"}))
for pick in keys.itertuples():
    requests = frames.key_requests(chats, pick.case, pick.key)
    rate = limits[pick.case]
    windows = frames.window_admissions(requests, rate.duration_ns)
    label = f"key {pick.key[:18]}…" if len(pick.key) > 19 else f"key {pick.key}"
    who = label if pick.key else "the whole chatbot (no vary_by)"
    title = f"{pick.case}: {who}, limit {rate.limit} per {rate.duration_s:g} s"
    show(
        limit_charts.key_timeline_figure(requests, windows, rate, title, family),
        f"key-{slug(pick.case)}",
    )

# %% [markdown]
# ## Reported wait against the time that really remained
# Each throttle's `wait` (x) against the time until its key's next admission (y, the middle of
# the interval the records allow). An honest wait puts points on or above the diagonal (above:
# the client came back later than it could have); a red point is an admission surely earlier
# than the throttle promised.

# %%
waits = frames.wait_vs_remaining(chats)
if waits.empty:
    note("No throttle was followed by an admission of the same key: no wait to compare.")
else:
    shown = {case: rate.duration_s for case, rate in limits.items()}
    show(limit_charts.wait_figure(waits, dict(list(shown.items())[:MAX_KEYS])), "wait-vs-remaining")
    early = waits.groupby("case")["early"].agg(throttles="size", admitted_earlier="sum")
    table(early.reset_index(), float_format="{:.0f}")

# %% [markdown]
# ## Promised waits against true waits
# Each throttle's promised `wait` (x) against the bounds the trace puts on the true one (y, a bar
# from the least to the most it can have been): after the last refusal that proves the budget
# was not yet free, and by the end of the first admission surely after the throttle. An honest
# wait's bar crosses the diagonal; a bar wholly above it is a promise surely early (the wait too
# short), wholly below one surely late (too long). wait-honesty's figures in the verdict are the
# same bounds.

# %%
promised = promises.promised_vs_true(check_input(plan, read_records(run, CHECK_COLUMNS)))
if promised.empty:
    note("No throttle of this run reported a wait: no promise to compare.")
else:
    shown = {case: rate.duration_s for case, rate in limits.items()}
    show(limit_charts.promise_figure(promised, dict(list(shown.items())[:MAX_KEYS])), "promises")
    off = promised.groupby("case")["off"].value_counts().unstack(fill_value=0)
    table(off.reset_index(), float_format="{:.0f}")
