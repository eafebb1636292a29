"""Shared fixtures for the analysis, swaps and app tests (imported, not a conftest)."""

from dataclasses import dataclass

import pytest

from explorer.methods import steps
from explorer.core.config import RunConfig, tiny
from explorer.methods.das import DASResult
from explorer.core.models import MLP
from explorer.core.pairs import PairSet, pair_set
from explorer.methods.search import NeuronResult
from explorer.core.train import new_model


@dataclass
class SmallRun:
    cfg: RunConfig
    model: MLP
    pairs: PairSet
    das: DASResult
    neuron: NeuronResult


@pytest.fixture(scope="session")
def small_run() -> SmallRun:
    """An untrained 3x16 network with a short DAS (k=2) and a neuron-wise search: enough
    to check swap arithmetic against plain torch without spending time on training."""
    cfg = tiny(k=2, das_steps=20, restarts=1, n_train_pairs=256, n_val_pairs=64,
               n_test_pairs=300, n_search_pairs=64)
    model = new_model(cfg).eval().requires_grad_(False)
    pairs = pair_set(model, cfg)
    return SmallRun(cfg, model, pairs, steps.run_das(model, cfg, pairs),
                    steps.run_neuron(model, cfg, pairs))
