"""The Findings: chart frames and numbered readings from the shipped results.

`pretrained/results.csv` (python -m explorer pretrain) gives DAS, neuron-wise search and the
controls at every site and k; `pretrained/study/` (python -m explorer study) gives probes,
search success, search success against budget, oracles, angles, maps and the rest. Pure
pandas (the CSVs are read by `explorer.store.tables`): every number is an aggregate across
model seeds (median, with the min-max range), so a reading stays true when the data is
regenerated. Used by the app's Findings page, `python -m explorer findings` and FINDINGS.md
(the sections both show: `explorer.study.sections`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.core.vocabulary import BY_KEY, IIA_TOLERANCE, METHOD_LABELS

DETAIL_WIDTH = 16
UNTRAINED, ROTATION = BY_KEY["untrained_das"], BY_KEY["random_rotation"]  # controls' names
FEATURES = BY_KEY["random_features_das"]
DAS, NEURON = METHOD_LABELS["das"], METHOD_LABELS["neuron"]
METHODS = [DAS, NEURON, "probe (true labels)", "probe (shuffled labels)",
           UNTRAINED.label, FEATURES.label, ROTATION.label, "identity-hypothesis DAS"]


def das_frame(results: pd.DataFrame, hypothesis: str = "both") -> pd.DataFrame:
    """DAS rows of the detail-width models: activation, site, k, seed, iia and controls."""
    keep = ((results.method == "das") & (results.hypothesis == hypothesis)
            & (results.width == DETAIL_WIDTH))
    return results[keep].reset_index(drop=True)


def _scores(frame: pd.DataFrame, column: str, method: str) -> pd.DataFrame:
    out = frame[["activation", "site", "seed", column]].rename(columns={column: "score"})
    return out.assign(method=method)


def method_frame(results: pd.DataFrame, probes: pd.DataFrame | None, k: int = 8) -> pd.DataFrame:
    """Long form activation, site, seed, method, score at one k: DAS beside neuron-wise
    search, probes (mean of V1 and V2), and the controls."""
    das = das_frame(results)
    das = das[das.k == k]
    neuron = results[(results.method == "neuron") & (results.hypothesis == "both")
                     & (results.width == DETAIL_WIDTH) & (results.k == k)]
    identity = das_frame(results, "identity")
    parts = [_scores(das, "iia", DAS),
             _scores(neuron, "iia", NEURON),
             _scores(das, UNTRAINED.column, UNTRAINED.label),
             *([_scores(das, FEATURES.column, FEATURES.label)] if FEATURES.column in das else []),
             _scores(das, "random_rotation_iia", ROTATION.label),  # the mean (one draw before)
             _scores(identity[identity.k == k], "iia", "identity-hypothesis DAS")]
    if probes is not None:
        trained = probes[probes.network == "trained"]
        keys = ["activation", "site", "seed", "labels"]
        mean = trained.groupby(keys, as_index=False).accuracy.mean()
        for labels in ("true labels", "shuffled labels"):
            part = mean[mean.labels == labels].rename(columns={"accuracy": "score"})
            parts.append(part[["activation", "site", "seed", "score"]].assign(
                method=f"probe ({labels})"))
    return pd.concat(parts, ignore_index=True)


def boundless_sizes(maps: pd.DataFrame) -> pd.DataFrame:
    """Boundless DAS learned dims: activation, seed, site, variable, size."""
    rows = maps[maps["map"] == "boundless"]
    long = rows.melt(id_vars=["activation", "seed", "site"], value_vars=["k_V1", "k_V2"],
                     var_name="variable", value_name="size")
    long["variable"] = long.variable.str.removeprefix("k_")
    return long


def stability_frame(angles: pd.DataFrame, seed_angles: pd.DataFrame | None) -> pd.DataFrame:
    """Angles long form: activation, seed, site, k, comparison, mean_degrees (restarts, V1 vs V2,
    linear map, and between seeds at the input for the random-init search)."""
    columns = ["activation", "seed", "site", "k", "comparison", "mean_degrees"]
    frames = [angles[columns]]
    if seed_angles is not None and len(seed_angles):
        seeds = seed_angles[seed_angles.init == "random"]
        frames.append(seeds.assign(site=0, seed=seeds.seed_a,
                                   comparison="between seeds (" + seeds.variable + ")")[columns])
    return pd.concat(frames, ignore_index=True)


def random_subspace_angle(d: int, k: int, draws: int = 200, seed: int = 0) -> float:
    """Mean principal angle (degrees) between two random k-dim subspaces of R^d: the
    reference for 'how aligned are two learned subspaces' (about 45 for k = 8, d = 16)."""
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(draws):
        qa, qb = (np.linalg.qr(rng.standard_normal((d, k)))[0] for _ in range(2))
        cos = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), 0.0, 1.0)
        means.append(np.degrees(np.arccos(cos)).mean())
    return float(np.mean(means))


def spread(frame: pd.DataFrame, value: str, **where) -> tuple[float, float, float]:
    """(median, min, max) across seeds of `value` where the columns equal the given values;
    rows of one seed are averaged first. NaN when nothing matches."""
    keep = pd.Series(True, index=frame.index)
    for column, wanted in where.items():
        keep &= frame[column] == wanted
    per_seed = frame[keep].groupby("seed")[value].mean()
    if per_seed.empty:
        return float("nan"), float("nan"), float("nan")
    return float(per_seed.median()), float(per_seed.min()), float(per_seed.max())


def fmt(stats: tuple[float, float, float], digits: int = 3) -> str:
    """'0.896 (0.79-0.93 across seeds)'."""
    med, lo, hi = stats
    return f"{med:.{digits}f} ({lo:.2f}–{hi:.2f} across seeds)"


SETTING_ORDER = ["orthogonal k = 8", "orthogonal k = 4", "linear k = 4"]
ACTIVATION_ORDER = ["relu", "sigmoid", "tanh", "gelu", "leaky_relu"]


def budget_frame(budget: pd.DataFrame) -> pd.DataFrame:
    """budget.csv per activation, setting, seed and budget (step): success (the fraction of
    the seed's restarts that succeeded by then), any_success (some restart did), best_val_iia
    (the seed's best restart so far), target (the oracle's IIA on the same pairs)."""
    frame = budget.assign(setting=budget["map"] + " k = " + budget.k.astype(str))
    keys = ["activation", "setting", "seed", "step"]
    out = frame.groupby(keys, as_index=False, sort=False).agg(
        success=("success", "mean"), any_success=("success", "max"),
        best_val_iia=("best_val_iia", "max"), target=("target", "first"),
        restarts=("restart", "nunique"))
    out["any_success"] = out.any_success.astype(float)
    def rank(values: pd.Series, order: list[str]) -> pd.Series:
        return values.map({v: i for i, v in enumerate(order)}).fillna(len(order))

    order = out.assign(s_rank=rank(out.setting, SETTING_ORDER),
                       a_rank=rank(out.activation, ACTIVATION_ORDER))
    order = order.sort_values(["s_rank", "a_rank", "activation", "seed", "step"])
    return order.drop(columns=["s_rank", "a_rank"]).reset_index(drop=True)


def plateau(frame: pd.DataFrame, value: str = "success") -> pd.DataFrame:
    """Per activation and setting: the fraction (mean over seeds) at every budget, and the
    budget at which it stops changing (the smallest B with the same fraction at every
    budget >= B). still_changing: it changed between the last two budgets."""
    curve = frame.groupby(["activation", "setting", "step"], as_index=False)[value].mean()
    rows = []
    for (activation, setting), part in curve.groupby(["activation", "setting"], sort=False):
        values, steps = part[value].to_numpy(), part.step.to_numpy()
        last = len(values) - 1
        first = last
        while first > 0 and np.isclose(values[first - 1], values[last]):
            first -= 1
        rows.append({"activation": activation, "setting": setting, "final": values[last],
                     "last_step": int(steps[last]), "plateau_step": int(steps[first]),
                     "still_changing": bool(first == last and last > 0)})
    return pd.DataFrame(rows)


CRITERIA = {"by_iia": "IIA", "by_both": "IIA and subspace"}
MAP_ORDER = ["orthogonal", "linear", "revnet h=1", "revnet h=2", "revnet h=4", "revnet h=8",
             "revnet h=16"]


def complexity_frame(complexity: pd.DataFrame) -> pd.DataFrame:
    """pretrained/complexity.csv per activation, network, site and map: the median IIA
    across seeds (iia) and its min and max, maps simplest first."""
    out = complexity.groupby(["activation", "network", "site", "map"], as_index=False,
                             sort=False).iia.agg(iia="median", low="min", high="max")
    rank = out["map"].map({m: i for i, m in enumerate(MAP_ORDER)}).fillna(len(MAP_ORDER))
    return out.assign(rank=rank).sort_values(["activation", "network", "site", "rank"]).drop(
        columns="rank").reset_index(drop=True)


def _criteria(rows: pd.DataFrame) -> pd.DataFrame:
    """rows with by_iia (IIA within IIA_TOLERANCE of the planted alignment's own) and by_both
    (also within the angle tolerance of the directions the network reads: the recovery's
    `found`), each 0/1."""
    return rows.assign(by_iia=(rows.iia >= rows.planted_iia - IIA_TOLERANCE).astype(float),
                       by_both=rows.found.astype(float))


def planted_curve(planted: pd.DataFrame) -> pd.DataFrame:
    """The planted grid's budget curve (rotated plants that took, planted hypothesis): per
    activation, method, DAS step cap and criterion ("IIA": by_iia, "IIA and subspace":
    by_both, see `_criteria`), the fraction of networks where the method found the plant
    (found); also the median IIA and used angle, and the number of networks (nets)."""
    rows = _criteria(planted[planted.curve & ~planted.plant_failed
                             & (planted.hypothesis == "both")])
    keys = ["activation", "method", "das_steps"]
    out = rows.groupby(keys, as_index=False, sort=False).agg(
        by_iia=("by_iia", "mean"), by_both=("by_both", "mean"), iia=("iia", "median"),
        used_angle=("used_angle_deg", "median"), nets=("seed", "nunique"))
    long = out.melt(id_vars=[*keys, "iia", "used_angle", "nets"], value_vars=["by_iia", "by_both"],
                    var_name="criterion", value_name="found")
    return long.assign(criterion=long.criterion.map(CRITERIA))


def planted_default(planted: pd.DataFrame) -> pd.DataFrame:
    """Every method at the plant command's default budget, per activation, form, hypothesis
    and method: networks whose plant took (nets), how many the method found by IIA (by_iia)
    and by IIA and subspace (found; strict: found_strict; planted hypothesis only), median
    IIA and median angles."""
    rows = _criteria(planted[~planted.curve & ~planted.plant_failed])
    rows = rows.assign(found_strict=rows.found_strict.astype(float))
    return rows.groupby(["activation", "form", "hypothesis", "method"], as_index=False,
                        sort=False).agg(
        nets=("seed", "nunique"), by_iia=("by_iia", "sum"), found=("by_both", "sum"),
        strict=("found_strict", "sum"), iia=("iia", "median"),
        planted_iia=("planted_iia", "median"), used_angle=("used_angle_deg", "median"),
        max_angle=("max_angle_deg", "median"))
