"""One or two sentences under a result that say what its numbers mean, built from those
numbers (no new measurement: comparisons of the values on screen against chance, the
no-intervention baseline and each other). Torch-free: the app's first screen reads them
before the heavy imports.

    das_reading, neuron_reading, site_reading    an alignment's IIA (DAS / neuron-wise / per site)
    probe_reading                                probes against their shuffled-label control
    swap_reading                                 swap outcomes per intervention type
    compare_reading                              a pinned configuration against the current one
"""

from __future__ import annotations

import pandas as pd

from explorer.core.vocabulary import CHANCE, NEAR_CHANCE


def _level(iia: float, baseline: float) -> str:
    if iia < NEAR_CHANCE:
        return (f"{iia:.3f}, near chance: no alignment of this form here (the swap does "
                f"little more than nothing, {baseline:.3f})")
    return (f"{iia:.3f}: the swapped network follows the high-level model on {iia:.0%} of "
            f"held-out pairs, against {baseline:.3f} for a swap that does nothing")


def das_reading(das: float, neuron: float | None, baseline: float, below: float,
                random_features: float | None = None) -> str:
    """DAS against the baseline, the best unit subsets (`below`: the gap that counts as a
    search miss, explorer.methods.report.BELOW) and the random-features network (the
    control that cannot be vacuous, unlike the untrained network's constant output)."""
    text = f"**Reading.** DAS IIA is {_level(das, baseline)}."
    if neuron is not None and das >= NEAR_CHANCE:
        if das > neuron + below:
            text += (f" It is {das - neuron:.3f} above the best neuron-wise subsets "
                     f"({neuron:.3f}): the variables are spread across units (distributed).")
        elif das >= neuron - below:
            text += (f" The best neuron-wise subsets do as well ({neuron:.3f}): the variables "
                     "sit in individual units here (localist).")
        else:
            text += (f" It is below the best neuron-wise subsets ({neuron:.3f}), which DAS "
                     "could have learned: a search miss.")
    if random_features is not None and random_features == random_features \
            and das >= NEAR_CHANCE:  # not NaN
        text += (f" The same DAS on a random-features network (untrained layers, fitted "
                 f"readout) scores {random_features:.3f}.")
    return text


def neuron_reading(iia: float, baseline: float, k: int) -> str:
    return (f"**Reading.** Swapping the best {k} unit{'s' if k > 1 else ''} per variable "
            f"gives IIA {_level(iia, baseline)}.")


def site_reading(profile: pd.DataFrame, method: str) -> str | None:
    """profile: site, method, iia (one method's rows used). Where it peaks past the input,
    and where it falls to chance."""
    rows = profile[profile.method == method].sort_values("site")
    hidden = rows[rows.site > 0]
    if hidden.empty:
        return None
    best = hidden.loc[hidden.iia.idxmax()]
    last = hidden.iloc[-1]
    text = (f"**Reading.** Past the input, {method} IIA is highest at site {int(best.site)} "
            f"({best.iia:.2f})")
    if int(last.site) != int(best.site):
        text += f" and {last.iia:.2f} at the last hidden layer (site {int(last.site)})"
    gone = [str(int(s)) for s in hidden[hidden.iia < NEAR_CHANCE].site]
    if gone:
        text += (f"; at site{'s' if len(gone) > 1 else ''} {', '.join(gone)} it is near "
                 f"chance ({CHANCE:g}): the variables are not held there in this form")
    return text + "."


# the probes' labels (`geometry.probe_frame` writes them; here: torch-free)
PROBE_TRUE, PROBE_SHUFFLED = "true labels", "shuffled labels"


def probe_reading(probes: pd.DataFrame) -> str | None:
    """probes: site, variable, labels (true / shuffled), accuracy. Per variable, the site
    where its probe beats the shuffled-label control by most; decodable is not causal."""
    table = probes.pivot_table(index=["variable", "site"], columns="labels",
                               values="accuracy").reset_index()
    if PROBE_TRUE not in table or PROBE_SHUFFLED not in table:
        return None
    table["gain"] = table[PROBE_TRUE] - table[PROBE_SHUFFLED]
    parts = []
    for variable, rows in table.groupby("variable", sort=True):
        best = rows.loc[rows.gain.idxmax()]
        if best[PROBE_TRUE] < NEAR_CHANCE:
            parts.append(f"{variable} is decoded nowhere above {NEAR_CHANCE:g}")
        else:
            parts.append(f"{variable} is decoded best at site {int(best.site)} "
                         f"({best[PROBE_TRUE]:.2f}, shuffled labels {best[PROBE_SHUFFLED]:.2f})")
    return ("**Reading.** " + "; ".join(parts) + ". Decodable means readable, not used: "
            "only an intervention (Neuron-wise search, DAS) shows the network uses it.")


def swap_reading(summary: pd.DataFrame, changed_only: bool = False) -> str | None:
    """summary (`swaps.outcome_summary`): method, type, iia, n. The first method (the
    alignment) overall and at its weakest intervention type, against no intervention."""
    overall = summary[summary.type == "all"].set_index("method").iia
    if overall.empty:
        return None
    method = overall.index[0]
    per_type = summary[(summary.method == method) & (summary.type != "all")].dropna()
    text = f"**Reading.** {method} follows the high-level model on {overall.iloc[0]:.0%} of "
    text += "these pairs" + (f" against {overall['no intervention']:.0%} for no "
                              "intervention" if "no intervention" in overall else "")
    if len(per_type) > 1:
        weak = per_type.loc[per_type.iia.idxmin()]
        text += f"; its weakest intervention type is {weak.type} ({weak.iia:.0%})"
    if changed_only:
        text += (". On pairs whose label the swap changes, doing nothing is always wrong: "
                 "every right answer here is the swap's doing")
    return text + "."


def compare_reading(frame: pd.DataFrame, n_pairs: int) -> str | None:
    """frame: measure, configuration ('pinned' / 'current'), value. The largest difference,
    against the sampling noise of a difference of two IIAs on n_pairs test pairs each (two
    standard errors, at 0.5 where they are widest)."""
    wide = frame.pivot_table(index="measure", columns="configuration", values="value")
    if "pinned" not in wide or "current" not in wide:
        return None
    wide = wide.dropna()
    if wide.empty:
        return None
    diff = wide.current - wide.pinned
    measure = diff.abs().idxmax()
    noise = 2 * (2 * 0.25 / n_pairs) ** 0.5
    row = wide.loc[measure]
    text = (f"**Reading.** The largest difference is in {measure}: current {row.current:.3f} "
            f"against pinned {row.pinned:.3f} ({diff[measure]:+.3f}). ")
    if abs(diff[measure]) < noise:
        return text + (f"Every difference is within sampling noise (two standard errors of a "
                       f"difference on {n_pairs:,} test pairs: about {noise:.3f}).")
    return text + (f"That is beyond sampling noise ({noise:.3f} on {n_pairs:,} test pairs), "
                   "but each side is one model seed: read it against the spread over seeds.")
