"""Counterfactual pairs at one site: DAS train/val/test pairs and per-variable neuron-search
pairs, as site states of a given network. Pairs depend on the seed and the hypothesis only,
so every network (trained, untrained, planted) is scored on the same pairs."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.core.iia import SiteData, site_data
from explorer.core.models import MLP
from explorer.core.rng import generator
from explorer.core.task import sample_pairs
from explorer.core.train import entities_for


@dataclass(frozen=True)
class PairSet:
    """DAS train/val/test pairs and per-variable neuron-search pairs at one site."""

    train: SiteData
    val: SiteData
    test: SiteData
    search: list[SiteData]


def pair_set(model: MLP, cfg: RunConfig, site: int | None = None,
             hypothesis: str | None = None) -> PairSet:
    """Pairs depend on the seed and hypothesis only, so any network sees the same pairs."""
    site = cfg.das.site if site is None else site
    hyp = hypothesis or cfg.das.hypothesis
    n_vars, ent, d = len(CAUSAL_MODELS[hyp].variables), entities_for(cfg), cfg.das

    def make(n, split, name, only=None):
        gen = generator(cfg.seed, "pairs", hyp, name)
        pairs = sample_pairs(n, n_vars, ent, split, gen, only, identity=hyp == "identity")
        return site_data(model, site, pairs, hyp)

    types = ("V1", "V2")[:n_vars]
    return PairSet(make(d.n_train_pairs, "train", "train"), make(d.n_val_pairs, "train", "val"),
                   make(d.n_test_pairs, "test", "test"),
                   [make(cfg.neuron.n_search_pairs, "train", f"search-{v}", v) for v in types])
