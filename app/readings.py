"""One or two sentences under a result that say what its numbers mean, built from those
numbers (no new measurement: comparisons of the values on screen against chance, the
no-intervention baseline and each other)."""

from __future__ import annotations

import pandas as pd

CHANCE = 0.5
NEAR_CHANCE = 0.6  # an IIA below this is read as no alignment of this form


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
