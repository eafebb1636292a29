"""Which high-level model does each site support? A hypothesis court, and where one
alignment holds pair by pair.

    hypothesis_court(networks, cfg, map_name)  ->  Court (frame, reading)
    pair_success(model, pairs, data, var_mask, map, inverse)  ->  per-cell IIA frame

The court fits, for one map of the complexity dial (`explorer.analysis.complexity`), an
alignment of each hypothesis (Both Equality Relations, Left Equality, Identity of First
Argument, Output Only) at every site, on the same base inputs and the same entity-disjoint
split, for the trained network and the random-features control network. A site *supports*
a hypothesis when its IIA is at least SUPPORT and at least MARGIN above the control
network's at the same site (the control must be able to fail); the reading lists, site by
site, the hypotheses that pass, from the numbers.

The per-pair success map splits one alignment's test IIA by base pattern x source pattern x
intervention type; for the "both" type the source pattern is V1's source's.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import pandas as pd
import torch

from explorer.analysis.complexity import DialSettings, NOTE, pairs_for
from explorer.core.causal import CAUSAL_MODELS, entities_of, equal
from explorer.core.config import HYPOTHESIS_NAMES, RunConfig
from explorer.core.iia import IIA, SiteData, intervened_logits
from explorer.core.models import MLP
from explorer.core.progress import Progress
from explorer.core.rng import generator
from explorer.core.task import PATTERNS, Pairs
from explorer.methods.das import train_das
from explorer.methods.dial import train_dial

SUPPORT = 0.9  # IIA a supported hypothesis reaches at a site
MARGIN = 0.05  # ... and by which it beats the control network there
COURT_MAPS = ("orthogonal", "linear", "revnet h=1", "revnet h=2", "revnet h=4", "revnet h=8",
              "revnet h=16")


def fit_map(model: MLP, data: tuple[SiteData, SiteData, SiteData], k: int, cfg: RunConfig,
            settings: DialSettings, map_name: str, gen: torch.Generator) -> IIA:
    """Test IIA of one map of the dial fitted on (train, val) and scored on test."""
    train, val, test = data
    dcfg = settings.config(cfg).das
    first = torch.eye(train.base_h.shape[-1]) if settings.das_init == "identity" else None
    if map_name.startswith("revnet h="):
        width = int(map_name.split("=")[1])
        return train_dial(model, train, val, test, k, dcfg, gen, (width,), first=first).test[width]
    if map_name not in ("orthogonal", "linear"):
        raise ValueError(f"map: must be one of {', '.join(COURT_MAPS)} (got {map_name!r})")
    return train_das(model, train, val, test, k, replace(dcfg, map=map_name), gen,
                     first=first).test


@dataclass(frozen=True)
class Court:
    frame: pd.DataFrame  # network, site, hypothesis, title, k, iia, baseline, map, supported
    reading: str  # per site (runs of sites), the hypotheses supported
    note: str  # the entity-disjoint split


def hypothesis_court(networks: dict[str, MLP], cfg: RunConfig, map_name: str = "orthogonal",
                     settings: DialSettings = DialSettings(),
                     hypotheses: tuple[str, ...] = HYPOTHESIS_NAMES,
                     sites: tuple[int, ...] | None = None, progress: Progress | None = None,
                     workers: int = 2) -> Court:
    """`networks` holds "trained" and (for the verdicts) "control"."""
    pairs = {h: pairs_for(cfg, h, settings) for h in hypotheses}
    model = networks["trained"]
    sites = tuple(range(model.n_sites)) if sites is None else sites
    jobs = [(name, site, h) for name in networks for site in sites for h in hypotheses]

    def one(job):
        name, site, h = job
        net = networks[name]
        k = min(cfg.das.k, net.site_dim(site) // len(CAUSAL_MODELS[h].variables))
        iia = fit_map(net, pairs[h].at(net, site), k, cfg, settings, map_name,
                      generator(cfg.seed, "court", map_name, name, site, h))
        return {"network": name, "site": site, "hypothesis": h,
                "title": CAUSAL_MODELS[h].title, "k": k, "iia": iia.iia,
                "iia_label_changed": iia.changed, "baseline": iia.baseline, "n": iia.n}
    rows, pool = [], ThreadPoolExecutor(max_workers=workers)
    try:
        for i, row in enumerate(pool.map(one, jobs)):
            rows.append(row)
            if progress:  # may raise (a cancelled job): the fits not started are dropped
                progress((i + 1) / len(jobs), f"hypothesis court: {i + 1}/{len(jobs)} fits")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    frame = pd.DataFrame(rows).assign(map=map_name)
    frame["supported"] = _supported(frame)
    return Court(frame, reading(frame), NOTE)


def _supported(frame: pd.DataFrame) -> pd.Series:
    control = frame[frame.network == "control"].set_index(["site", "hypothesis"]).iia
    def ok(row) -> bool:
        beside = control.get((row.site, row.hypothesis), float("nan"))
        beats = not beside == beside or row.iia >= beside + MARGIN  # no control: IIA alone
        return row.network == "trained" and row.iia >= SUPPORT and beats
    return frame.apply(ok, axis=1)


def reading(frame: pd.DataFrame) -> str:
    """'sites 0-1 support Both Equality Relations, Left Equality; site 3 supports Output
    Only' (consecutive sites with the same verdict grouped), from the trained rows."""
    trained = frame[frame.network == "trained"]
    verdicts = [(site, tuple(g[g.supported].title)) for site, g in trained.groupby("site")]
    runs: list[list] = []
    for site, titles in verdicts:
        if runs and runs[-1][1] == titles and runs[-1][0][-1] == site - 1:
            runs[-1][0].append(site)
        else:
            runs.append([[site], titles])
    parts = []
    for sites, titles in runs:
        where = f"site {sites[0]}" if len(sites) == 1 else f"sites {sites[0]}-{sites[-1]}"
        verb = "supports" if len(sites) == 1 else "support"
        parts.append(f"{where} {verb} " + (" and ".join(titles) + (" only" if len(titles) == 1
                                                                   else "")
                                           if titles else "none of them"))
    return "; ".join(parts) + (f" (IIA >= {SUPPORT} and >= {MARGIN} above the control "
                               "network)")


def patterns_of(x: torch.Tensor) -> torch.Tensor:
    """Pattern index (into task.PATTERNS) of inputs (..., 4D), from their equalities."""
    a, b, c, d = entities_of(x)
    v1, v2 = equal(a, b).long(), equal(c, d).long()
    table = torch.tensor([PATTERNS.index("ABCD"), PATTERNS.index("ABCC"),
                          PATTERNS.index("AACD"), PATTERNS.index("AABB")])
    return table[2 * v1 + v2]


@torch.no_grad()
def pair_success(model: MLP, pairs: Pairs, data: SiteData, var_mask: torch.Tensor,
                 alignment_map=None, inverse: torch.Tensor | None = None) -> pd.DataFrame:
    """One alignment's hits on the test pairs (`pairs` are their inputs, `data` their
    states), split by base pattern, source pattern (the first intervened variable's source)
    and intervention type: base_pattern, source_pattern, intervention, n, iia."""
    hit = (intervened_logits(model, data, var_mask, alignment_map, inverse) > 0) \
        == data.counterfactual_label
    first = pairs.intervened.int().argmax(-1)  # (n,)
    source = pairs.sources[torch.arange(len(pairs)), first]
    frame = pd.DataFrame({
        "base_pattern": [PATTERNS[i] for i in pairs.base.pattern.tolist()],
        "source_pattern": [PATTERNS[i] for i in patterns_of(source).tolist()],
        "intervention": [data.type_names[i] for i in data.kind.tolist()],
        "hit": hit.float().numpy()})
    return (frame.groupby(["base_pattern", "source_pattern", "intervention"], as_index=False)
            .agg(n=("hit", "size"), iia=("hit", "mean")))
