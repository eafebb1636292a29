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
from explorer.core.task import Pairs, sample_pairs
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
    n_vars, d = len(CAUSAL_MODELS[hyp].variables), cfg.das

    def make(n, split, name, only=None):
        return site_data(model, site, named_pairs(cfg, hyp, n, split, name, only), hyp)

    types = ("V1", "V2")[:n_vars]
    return PairSet(make(d.n_train_pairs, "train", "train"), make(d.n_val_pairs, "train", "val"),
                   make(d.n_test_pairs, "test", "test"),
                   [make(cfg.neuron.n_search_pairs, "train", f"search-{v}", v) for v in types])


def named_pairs(cfg: RunConfig, hypothesis: str, n: int, split: str, name: str,
                only: str | None = None) -> Pairs:
    """The inputs of one of `pair_set`'s pair sets ("train", "val", "test", "search-V1", ...):
    redrawn identically from the seed, e.g. to read the test pairs' patterns."""
    n_vars = len(CAUSAL_MODELS[hypothesis].variables)
    return sample_pairs(n, n_vars, entities_for(cfg), split,
                        generator(cfg.seed, "pairs", hypothesis, name), only,
                        identity=hypothesis == "identity")


def das_test_pairs(cfg: RunConfig) -> Pairs:
    """The inputs of the config's DAS test pairs."""
    return named_pairs(cfg, cfg.das.hypothesis, cfg.das.n_test_pairs, "test", "test")
