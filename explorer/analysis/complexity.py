"""IIA against the complexity of the alignment map (Sutter et al. 2025): with unrestricted
invertible maps any algorithm aligns with any network, so a result must be read beside the
map family that produced it and beside control networks.

    complexity_sweep({"trained": net, "control": rf_net, "planted": p}, cfg)  ->  Sweep

For every network and site, one hypothesis's alignment is fitted with each map of the dial,
simplest first: orthogonal (a rotation), general linear, then the RevNet coupling map of
hidden width h = 1, 2, 4, 8, 16 (`explorer.methods.revnet`). The orthogonal map and every
RevNet width train as one batch (`dial.train_dial`: width 0 is the rotation alone), the
linear map with DAS's own loop.

Entity-disjoint generalization is the test: an entity bank of `n_entities` vectors is drawn
from the task's own distribution (the network was trained on fresh draws, so the bank is
in distribution) and split in halves; the map is fitted (train and validation pairs) only
on examples built from the first half and scored only on examples built from the second.
A configuration with a finite vocabulary uses its own train/test halves. `Sweep.note` says
so, and `entity_overlap` counts test entities seen in fitting (0 by construction).

Pairs depend on the seed and the entity bank only (not on the hypothesis's stream), so
every network, site and map is scored on the same pairs, and every hypothesis on the same
base inputs (`pairs_for`).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import pandas as pd
import torch

from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import REVNET_BUDGET, RunConfig
from explorer.core.iia import IIA, SiteData, site_data
from explorer.core.models import MLP
from explorer.core.progress import Progress
from explorer.core.rng import generator
from explorer.core.task import Entities, Pairs, sample_pairs
from explorer.core.train import entities_for
from explorer.methods.das import train_das
from explorer.methods.dial import WIDTHS, train_dial

NETWORKS = ("trained", "control", "planted")  # the chart's lines, in this order
NOTE = ("maps are fitted on pairs built from one half of the entities and tested on pairs "
        "built from the other half (entity-disjoint)")


@dataclass(frozen=True)
class DialSettings:
    """The sweep's own budget (every map family the same), and the non-linear map's default
    budget in `run --map revnet`. The cap is set by convergence (benchmarks/dial_budget.py,
    ReLU seeds 0-1, sites 1 and 3): at a 500-step cap 11% of the fits had converged (no gain
    for `das_patience` steps) and RevNet h=1 gained up to 0.04 IIA from more steps; at 2,000
    every fit converged, by step 900 (median), and 6,000 gave the same numbers."""

    widths: tuple[int, ...] = WIDTHS
    das_steps: int = 2000  # the cap
    das_patience: int = 200
    das_lr: float = 0.01
    das_batch_size: int = REVNET_BUDGET["das_batch_size"]
    restarts: int = REVNET_BUDGET["restarts"]
    n_train_pairs: int = REVNET_BUDGET["n_train_pairs"]
    n_val_pairs: int = REVNET_BUDGET["n_val_pairs"]
    n_test_pairs: int = REVNET_BUDGET["n_test_pairs"]
    n_entities: int = 1024  # the bank (halves: fitting / test); ignored with a vocabulary
    das_init: str = "identity"  # restart 0 of each map starts at the identity (units)

    def config(self, cfg: RunConfig) -> RunConfig:
        """cfg with this budget written into its DAS fields."""
        return cfg.with_values(das_steps=self.das_steps, das_patience=self.das_patience,
                               das_lr=self.das_lr, das_batch_size=self.das_batch_size,
                               restarts=self.restarts,
                               n_train_pairs=self.n_train_pairs, n_val_pairs=self.n_val_pairs,
                               n_test_pairs=self.n_test_pairs)


def map_order(widths: tuple[int, ...] = WIDTHS) -> list[str]:
    """The x axis, simplest first: orthogonal, linear, revnet h=1, ..."""
    return ["orthogonal", "linear", *(f"revnet h={w}" for w in widths)]


def entity_bank(cfg: RunConfig, settings: DialSettings) -> Entities:
    """Entities split in halves: the configuration's vocabulary, or a bank of fresh draws."""
    if cfg.task.vocab_size:
        return entities_for(cfg)
    task = replace(cfg.task, vocab_size=settings.n_entities)
    return Entities.build(task, generator(cfg.seed, "complexity-entities"))


@dataclass(frozen=True)
class DialPairs:
    """One hypothesis's pairs (inputs only; states are taken per network and site)."""

    hypothesis: str
    train: Pairs
    val: Pairs
    test: Pairs

    def at(self, model: MLP, site: int) -> tuple[SiteData, SiteData, SiteData]:
        return tuple(site_data(model, site, p, self.hypothesis)
                     for p in (self.train, self.val, self.test))


def pairs_for(cfg: RunConfig, hypothesis: str, settings: DialSettings) -> DialPairs:
    """Fitting pairs from the bank's first half, test pairs from its second. The streams
    do not name the hypothesis, so every hypothesis gets the same base inputs."""
    bank, n_vars = entity_bank(cfg, settings), len(CAUSAL_MODELS[hypothesis].variables)

    def draw(n, split, name):
        return sample_pairs(n, n_vars, bank, split, generator(cfg.seed, "complexity-pairs", name),
                            identity=hypothesis == "identity")
    return DialPairs(hypothesis, draw(settings.n_train_pairs, "train", "train"),
                     draw(settings.n_val_pairs, "train", "val"),
                     draw(settings.n_test_pairs, "test", "test"))


def entity_overlap(pairs: DialPairs) -> int:
    """Entities of the test pairs that also occur in the fitting pairs (0 when disjoint)."""
    def entities(p: Pairs) -> set[tuple[float, ...]]:
        x = torch.cat([p.base.x[:, None], p.sources], dim=1)  # (n, 1 + V, 4D)
        return {tuple(e.tolist()) for e in x.reshape(-1, 4, x.shape[-1] // 4).reshape(
            -1, x.shape[-1] // 4).unique(dim=0)}
    return len(entities(pairs.test) & (entities(pairs.train) | entities(pairs.val)))


def _row(network: str, site: int, map_name: str, test: IIA, **extra) -> dict:
    return {"network": network, "site": site, "map": map_name, **test.row(), "n": test.n,
            **extra}


def fit_site(model: MLP, network: str, site: int, cfg: RunConfig, pairs: DialPairs,
             settings: DialSettings, maps: tuple[str, ...] = ("dial", "linear")) -> list[dict]:
    """Every map of the dial at one site of one network: one row per map."""
    train, val, test = pairs.at(model, site)
    dcfg, k, rows = settings.config(cfg).das, cfg.das.k, []
    first = torch.eye(train.base_h.shape[-1]) if settings.das_init == "identity" else None
    stream = (network, site, pairs.hypothesis)
    if "dial" in maps:
        start = time.perf_counter()
        dial = train_dial(model, train, val, test, k, dcfg, generator(cfg.seed, "dial", *stream),
                          (0, *settings.widths), first=first)
        seconds = round(time.perf_counter() - start, 3)
        for width, iia in dial.test.items():
            rows.append(_row(network, site, f"revnet h={width}" if width else "orthogonal",
                             iia, family="revnet" if width else "orthogonal", width=width,
                             val_iia=dial.val_iia[width], converged=dial.converged,
                             steps_used=dial.steps_used, seconds=seconds))
    if "linear" in maps:
        start = time.perf_counter()
        das = train_das(model, train, val, test, k, replace(dcfg, map="linear"),
                        generator(cfg.seed, "dial-linear", *stream), first=first)
        rows.append(_row(network, site, "linear", das.test, family="linear", width=0,
                         val_iia=float(das.restarts.val_iia.max()), converged=das.converged,
                         steps_used=das.steps_used,
                         seconds=round(time.perf_counter() - start, 3)))
    return rows


@dataclass(frozen=True)
class Sweep:
    frame: pd.DataFrame  # network, site, map, family, width, complexity, iia, iia_*, n, ...
    note: str  # how generalization is tested (entity-disjoint)
    entity_overlap: int  # test entities seen in fitting: 0
    seconds: float


def complexity_sweep(networks: dict[str, MLP], cfg: RunConfig,
                     settings: DialSettings = DialSettings(), sites: tuple[int, ...] | None = None,
                     hypothesis: str | None = None, progress: Progress | None = None,
                     workers: int = 2) -> Sweep:
    """IIA of every map of the dial at every site of every network (see the module doc);
    `workers` fits at once (threads: torch releases the GIL in its kernels, and every random
    stream is named by network and site, so the numbers do not depend on the order)."""
    start, hyp = time.perf_counter(), hypothesis or cfg.das.hypothesis
    cfg = cfg.with_values(hypothesis=hyp)
    pairs = pairs_for(cfg, hyp, settings)
    any_net = next(iter(networks.values()))
    sites = tuple(range(any_net.n_sites)) if sites is None else sites
    jobs = [(name, site, cfg.with_values(k=min(cfg.das.k, _max_k(net, site, hyp))))
            for name, net in networks.items() for site in sites]
    done, rows = 0, []
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(fit_site, networks[name], name, site, c, pairs, settings)
                   for name, site, c in jobs]
        for future in futures:
            rows += future.result()
            done += 1
            if progress:  # may raise (a cancelled job): the fits not started are dropped
                progress(done / len(futures), f"complexity sweep: {done}/{len(futures)} fits")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    frame = pd.DataFrame(rows)
    order = map_order(settings.widths)
    frame["complexity"] = frame["map"].map(order.index)
    frame["hypothesis"], frame["k"] = hyp, cfg.das.k
    frame = frame.sort_values(["network", "site", "complexity"], ignore_index=True)
    return Sweep(frame, NOTE, entity_overlap(pairs), round(time.perf_counter() - start, 3))


def _max_k(model: MLP, site: int, hypothesis: str) -> int:
    d = model.site_dim(site)
    return d // len(CAUSAL_MODELS[hypothesis].variables)
