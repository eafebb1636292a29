"""Two-sentence readings of the Findings charts, with the numbers filled in from the data
(median across model seeds and the seeds' range), so they stay true when the data is
regenerated. Each function takes the frames the chart shows and returns markdown."""

from __future__ import annotations

import pandas as pd

from explorer.core.vocabulary import ANGLE_TOLERANCE_DEG, IIA_TOLERANCE
from explorer.study.findings import (ACTIVATION_ORDER, DAS, FEATURES, NEURON,
                                     ROTATION, UNTRAINED, complexity_frame, fmt, planted_curve,
                                     planted_default, plateau, random_subspace_angle, spread)


def iia_vs_k(das: pd.DataFrame) -> str:
    relu8 = spread(das, "iia", activation="relu", site=1, k=8)
    relu1 = spread(das, "iia", activation="relu", site=1, k=1)
    relu4 = spread(das, "iia", activation="relu", site=1, k=4)
    sig8 = spread(das, "iia", activation="sigmoid", site=1, k=8)
    in8 = spread(das, "iia", activation="relu", site=0, k=8)
    last8 = spread(das, "iia", activation="relu", site=3, k=8)
    width = relu8[2] - relu8[1]
    step = relu8[0] - relu4[0]
    if width > abs(step):
        tail = "the model seed moves IIA more than going from k = 4 to k = 8 does."
    else:
        tail = "here the step from k = 4 to k = 8 exceeds the spread across seeds."
    at_input = ("the exact alignment" if in8[0] >= 0.98 else
                "near chance" if in8[0] < 0.6 else "short of the exact alignment")
    at_last = ("near chance" if last8[0] < 0.6 else
               "well below site 1" if last8[0] < relu8[0] - 0.1 else "close to site 1")
    return (f"At site 1 DAS reaches a median IIA of {fmt(relu8)} for ReLU and {fmt(sig8)} "
            f"for sigmoid at k = 8, and already {relu1[0]:.3f} for ReLU at k = 1; at the "
            f"input it scores {in8[0]:.3f} ({at_input}) and at the last hidden layer "
            f"{last8[0]:.3f} ({at_last}). The ReLU band (min–max over seeds) at site 1 "
            f"spans {width:.2f} against a gain of {step:+.3f} from k = 4 to k = 8: {tail}")


def methods(frame: pd.DataFrame, activation: str = "relu") -> str:
    def med(method, site):
        return spread(frame, "score", activation=activation, method=method, site=site)

    das1, neuron1, das0, neuron0 = med(DAS, 1), med(NEURON, 1), med(DAS, 0), med(NEURON, 0)
    das_at_input = (f"started there keeps it ({das0[0]:.3f})" if das0[0] >= neuron0[0] - 0.02
                    else f"scores {das0[0]:.3f}")
    return (f"At site 1 ({activation}, k = 8) DAS scores {fmt(das1)} against "
            f"{neuron1[0]:.3f} for the best neuron-wise subsets, "
            f"{med(UNTRAINED.label, 1)[0]:.3f} for the same search on an untrained "
            f"network, {med(FEATURES.label, 1)[0]:.3f} on a random-features network, "
            f"{med(ROTATION.label, 1)[0]:.3f} for a random rotation and "
            f"{med('identity-hypothesis DAS', 1)[0]:.3f} for the Identity-of-First-Argument "
            f"control, while probes read V1/V2 at {med('probe (true labels)', 1)[0]:.3f} "
            f"(shuffled labels {med('probe (shuffled labels)', 1)[0]:.3f}). At the input a "
            f"probe reads nothing ({med('probe (true labels)', 0)[0]:.3f}: equality is not "
            f"linear in a, b), yet the neuron-wise swap of the (a, b) coordinates is exact "
            f"({neuron0[0]:.3f}) and DAS {das_at_input}: decodability and causal role "
            "differ.")


def search_success(search: pd.DataFrame) -> str:
    def rate(activation, init, site, k):
        rows = search[(search.activation == activation) & (search.init == init)
                      & (search.site == site) & (search.k == k)]
        return float(rows.success.mean()) if len(rows) else float("nan")

    return (f"At the input, where exact alignments exist, 300-step random-start DAS succeeds in "
            f"{rate('relu', 'random', 0, 4):.0%} (ReLU) and {rate('sigmoid', 'random', 0, 4):.0%}"
            f" (sigmoid) of restarts at k = 4 and {rate('relu', 'random', 0, 8):.0%} / "
            f"{rate('sigmoid', 'random', 0, 8):.0%} at k = 8, over every seed and learning "
            f"rate, while starting at the identity (k = 8: "
            f"{rate('relu', 'identity', 0, 8):.0%} / {rate('sigmoid', 'identity', 0, 8):.0%}) "
            f"or at the neuron-wise answer ({rate('relu', 'neuron', 0, 8):.0%} / "
            f"{rate('sigmoid', 'neuron', 0, 8):.0%}) keeps the exact answer. At site 1, where "
            f"success means within the tolerance of the best IIA any run found for that model, "
            f"random restarts succeed {rate('relu', 'random', 1, 8):.0%} (ReLU) and "
            f"{rate('sigmoid', 'random', 1, 8):.0%} (sigmoid) of the time at k = 8.")


def basin(frame: pd.DataFrame) -> str:
    def at(activation, degrees):
        return spread(frame, "iia", activation=activation, degrees=degrees)[0]

    return (f"Swapping the exact difference subspace scores {at('relu', 0):.3f} (ReLU) and "
            f"{at('sigmoid', 0):.3f} (sigmoid), but tilted by only 5 degrees it drops to "
            f"{at('relu', 5):.3f} / {at('sigmoid', 5):.3f} and by 20 degrees to "
            f"{at('relu', 20):.3f} / {at('sigmoid', 20):.3f}. An equality swap must be exact "
            "(any residual of the base's a − b makes a and b unequal again), so a search that "
            "starts at a random subspace, typically 60–90 degrees away, sees chance-level IIA "
            "for most of the way: only the loss can lead it (its loss along the path: "
            "benchmarks/input_landscape.py), and whether it does takes thousands of steps to "
            "tell (search success against budget).")


def maps(frame: pd.DataFrame, sizes: pd.DataFrame) -> str:
    def med(map_name, site=1):
        return spread(frame, "iia", activation="relu", map=map_name, site=site)

    size1 = spread(sizes, "size", activation="relu", site=1, variable="V1")
    gain = med("linear")[0] - med("orthogonal")[0]
    if gain > 0.02:
        linear = (f"The general linear map finds {gain:+.3f} more on held-out pairs: the "
                  "variables separate better along an oblique split (the rest of the state "
                  "need not be orthogonal to them), so orthogonal DAS is a lower bound")
    else:
        linear = f"The general linear map adds little ({gain:+.3f})"
    fewer = "fewer than 8" if size1[0] < 8 else "all 8"
    return (f"At site 1 (ReLU, k = 8) the orthogonal map scores {fmt(med('orthogonal'))}, "
            f"the general linear map {med('linear')[0]:.3f} and Boundless DAS "
            f"{med('boundless')[0]:.3f}, with a median of {size1[0]:.0f} learned dims for V1 "
            f"(range {size1[1]:.0f}–{size1[2]:.0f} of 8); at the input the same maps score "
            f"{med('orthogonal', 0)[0]:.3f}, {med('linear', 0)[0]:.3f} and "
            f"{med('boundless', 0)[0]:.3f}. {linear}; Boundless DAS, which pays for every "
            f"dim, settles on {fewer}.")


def sizes(frame: pd.DataFrame) -> str:
    def med(activation, variable, site=1):
        return spread(frame, "size", activation=activation, site=site, variable=variable)[0]

    return (f"At site 1 Boundless DAS keeps a median of {med('relu', 'V1'):.0f} / "
            f"{med('relu', 'V2'):.0f} dims for V1 / V2 on ReLU nets and "
            f"{med('sigmoid', 'V1'):.0f} / {med('sigmoid', 'V2'):.0f} on sigmoid nets, out of 8 "
            f"allowed; at the input, where it fails, V1 shrinks to {med('relu', 'V1', 0):.0f} "
            f"(ReLU) and {med('sigmoid', 'V1', 0):.0f} (sigmoid). Every dim costs loss, so these "
            "sizes are what the variables need at this penalty, not a fixed 8 of 16.")


def probes(frame: pd.DataFrame) -> str:
    def med(site, labels="true labels", network="trained", activation="relu"):
        return spread(frame, "accuracy", site=site, labels=labels, network=network,
                      activation=activation)[0]

    return (f"In trained ReLU nets a linear probe reads V1/V2 at {med(1):.3f} at site 1 "
            f"({med(1, 'shuffled labels'):.3f} with shuffled labels, "
            f"{med(1, network='untrained'):.3f}"
            f" in an untrained net) but only {med(0):.3f} at the input. Decodability rises "
            "where the interventions find the variables, yet a probe cannot say whether the "
            "network uses what it reads; only the interventions test that.")


def stability(frame: pd.DataFrame) -> str:
    def med(comparison, site, k=8, activation="relu"):
        return spread(frame, "mean_degrees", comparison=comparison, site=site,
                      k=k, activation=activation)[0]

    reference = random_subspace_angle(16, 8)
    return (f"Restarts of the same search on the same ReLU net (k = 8) end "
            f"{med('between restarts (V1)', 1):.0f} degrees apart on average at site 1 and "
            f"{med('between restarts (V1)', 0):.0f} at the input (two random 8-dim subspaces "
            f"of 16 dims: {reference:.0f}), and one restart's V1 lies "
            f"{med('V1 vs V2 of another restart', 1):.0f} degrees from another's V2. "
            "Different restarts find different subspaces with similar IIA: read a learned "
            "rotation as one of many, not as the network's coordinates.")


def _count(fraction: float, n: int) -> str:
    """'7/40 (18%)': a fraction of n restarts."""
    return f"{round(fraction * n)}/{n} ({fraction:.0%})"


def held_out(budget: pd.DataFrame, tolerance: float = 0.02) -> str:
    """budget.csv's last step: do restarts that succeed on validation pairs keep the answer
    on the test pairs (held-out entities) with their final state?"""
    last = budget[budget.step == budget.step.max()]
    won = last[last.success]
    kept = int((won.test_iia >= won.target_test - tolerance).sum())
    lost = last[~last.success]
    false = int((lost.test_iia >= lost.target_test - tolerance).sum())
    return (f"Of the {len(won)} restarts that succeed on validation pairs, {kept} also score "
            f"within {tolerance} of the oracle on the test pairs (held-out entities) with "
            f"their final state; of the {len(lost)} that do not, {false} do.")


def budget(frame: pd.DataFrame, early: int = 300) -> str:
    """frame: `findings.budget_frame`. A sentence and a table: success at the study's old
    budget and at the last one, per setting and activation, and where it stops changing."""
    stops = plateau(frame).set_index(["activation", "setting"])
    last = int(frame.step.max())
    lines = ["| map, k | activation | restarts at " + f"{early:,}" + f" | at {last:,} | seeds "
             "with a success | per seed, median (range) | stops changing at |",
             "|---|---|---|---|---|---|---|"]
    for (setting, activation), part in frame.groupby(["setting", "activation"], sort=False):
        at = part.groupby("step")
        success, seeds = at.success.mean(), at.any_success.mean()
        per_seed = part[part.step == last].success
        stop = stops.loc[(activation, setting)]
        when = ("still changing" if stop.still_changing else
                "never succeeds" if stop.final == 0 and stop.plateau_step == 0 else
                f"{stop.plateau_step:,}")
        n = len(per_seed) * int(part.restarts.iloc[0])
        lines.append(f"| {setting} | {activation} | {_count(success.get(early, 0.0), n)} | "
                     f"{_count(success[last], n)} | {seeds[last] * part.seed.nunique():.0f} of "
                     f"{part.seed.nunique()} | {per_seed.median():.0%} "
                     f"({per_seed.min():.0%}–{per_seed.max():.0%}) | {when} |")
    restarts = int(frame.restarts.iloc[0])
    return (f"Random-start DAS at the input ({restarts} restarts per seed, lr 0.01): the "
            "fraction of restarts whose best validation IIA so far is within 0.02 of the exact "
            f"oracle's, at the study's old budget ({early} steps) and after {last:,} steps. "
            "'Stops changing at' is the smallest budget from which the fraction stays the "
            f"same up to {last:,} steps.\n\n" + "\n".join(lines))


def budget_iia(frame: pd.DataFrame, early: int = 300) -> str:
    """frame: `findings.budget_frame`. The seed's best restart, early and last, per setting."""
    last = int(frame.step.max())

    def med(activation, setting, step):
        return spread(frame, "best_val_iia", activation=activation, setting=setting, step=step)

    clauses = []
    for setting, part in frame.groupby("setting", sort=False):
        clauses.append(f"{setting}: " + ", ".join(
            f"{a} {med(a, setting, early)[0]:.3f} → {fmt(med(a, setting, last))}"
            for a in part.activation.unique()))
    oracle = float(frame.target.median())
    return (f"The seed's best restart so far, from {early} to {last:,} steps (median across "
            "seeds), " + "; ".join(clauses) + f". The exact oracle scores {oracle:.3f} (dashed "
            "black) and chance is 0.5 (dashed gray): the curves show how far each search got, "
            "not only whether it arrived.")


def complexity(raw: pd.DataFrame, site: int | None = None) -> str:
    """pretrained/complexity.csv: at the last hidden layer, the simple maps against the
    RevNet, per activation; the control under every map; how many fits converged."""
    frame = complexity_frame(raw)
    site = int(frame.site.max()) if site is None else site
    at = frame[(frame.site == site) & (frame.network == "trained")].set_index(
        ["activation", "map"]).iia
    acts = [a for a in ACTIVATION_ORDER if (a, "orthogonal") in at.index]
    per = "; ".join(f"{a} {at[(a, 'orthogonal')]:.3f} / {at[(a, 'linear')]:.3f} / "
                    f"{at.get((a, 'revnet h=2'), float('nan')):.3f}" for a in acts)
    control = raw[raw.network == "control"].iia
    converged = raw.converged.astype(bool).mean()
    return (f"At site {site} (the last hidden layer) the median IIA over seeds is, orthogonal / "
            f"linear / RevNet h=2: {per}. The random-features control (untrained layers, "
            f"fitted readout: it does not solve the task) stays near chance under every map "
            f"(median {control.median():.3f}, highest of {len(control)} cells "
            f"{control.max():.3f}): the map reads V1 and V2 out of a state from which the "
            "answer is computed, it cannot make them up. Maps are fitted on one half of the "
            "entities and tested on the other. "
            f"{converged:.0%} of the fits stopped before the {int(raw.steps_used.max())}-step "
            "cap (no gain for 200 steps); the others were still improving a little, so read "
            "a low IIA here as not found at this budget.")


def planted(table: pd.DataFrame, early: int = 300) -> str:
    """pretrained/planted/planted.csv: which search finds the planted alignment, at the plant
    command's default budget and at the curve's largest, and false positives on the wrong
    hypotheses."""
    nets = table.drop_duplicates(["activation", "form", "seed"])
    failed = nets[nets.plant_failed]
    acts = [a for a in ACTIVATION_ORDER if a in set(table.activation)]
    default = planted_default(table)
    curve = planted_curve(table)
    last = int(curve.das_steps.max())
    at_last = curve[curve.das_steps == last].set_index(["activation", "method", "criterion"])
    both = default[default.hypothesis == "both"].set_index(["activation", "form", "method"])

    def cell(activation, method):
        if (activation, "rotated", method) not in both.index:
            return "–"
        row = both.loc[(activation, "rotated", method)]
        nets_ = int(row.nets)
        text = (f"{int(row.by_iia)} / {int(row.found)} of {nets_} "
                f"(IIA {row.iia:.3f}, {row.used_angle:.0f}°)")
        if (activation, method, "IIA") in at_last.index:
            share = at_last.found
            text += (f"; at {last:,}: {share[(activation, method, 'IIA')] * nets_:.0f} / "
                     f"{share[(activation, method, 'IIA and subspace')] * nets_:.0f}")
        return text

    localist = ", ".join(
        f"{a} {int(both.loc[(a, 'localist', 'neuron')].found)}/"
        f"{int(both.loc[(a, 'localist', 'neuron')].nets)}"
        for a in acts if (a, "localist", "neuron") in both.index)
    lines = [f"| rotated plant, found by IIA / also by subspace at {early} steps | "
             + " | ".join(acts) + " |", "|---|" + "---|" * len(acts)]
    lines += [f"| {m} | " + " | ".join(cell(a, m) for a in acts) + " |"
              for m in dict.fromkeys(default.method)]
    wrong = default[(default.hypothesis != "both") & (default.form == "rotated")
                    & (default.method == "orthogonal")]
    wrong_text = ", ".join(f"{h} {w.iia.median():.3f}" for h, w in wrong.groupby("hypothesis"))
    fails = ", ".join(f"{r.activation} {r.form} seed {r.seed} ({r.task_accuracy:.2f})"
                      for r in failed.itertuples())
    return (f"{len(nets) - len(failed)} of {len(nets)} plants took (task accuracy and planted "
            f"IIA both >= 0.98; V1 and V2 planted at layer 1 in 4 dims each); failed: "
            f"{fails or 'none'}. On localist plants the neuron-wise search finds the plant in "
            f"{localist} networks. On rotated plants a method found the plant *by IIA* when its "
            f"IIA is within {IIA_TOLERANCE} of the planted alignment's own, and *also by "
            f"subspace* when the swapped subspace is within {ANGLE_TOLERANCE_DEG:g}° of the "
            "directions of the plant "
            f"the network reads (medians in brackets; then the counts at {last:,} steps):\n\n"
            + "\n".join(lines) + "\n\nThe chart shows the share of networks against the "
            "step cap: dashed, found by IIA; solid, by IIA and subspace. A curve that stays "
            "below 1 after it has stopped rising is a search that fails where the answer is "
            "known to be. On the wrong hypotheses of the rotated plants, orthogonal DAS scores "
            f"{wrong_text} (median): Left Equality holds on a network that computes V1, so a "
            "high score there is not a false positive, and Identity of First Argument, which "
            "is not computed, stays at chance.")
