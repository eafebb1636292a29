"""methods.fit_networks: DAS on several networks at once equals each network's own
train_das bit for bit (maps, histories, restarts, steps used), though they stop apart and
the stopped ones leave the batch."""

import pytest
import torch

from explorer.core.config import tiny
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.train import train_model
from explorer.methods.das import train_das
from explorer.methods.steps import das_start, untrained_model
from explorer.methods.fit_networks import DASJob, train_das_networks


@pytest.mark.parametrize("map_family", ["orthogonal", "linear"])
def test_networks_fitted_together_equal_their_own_runs(map_family):
    """A network that stops leaves the batch; those left go on as in their own runs."""
    jobs, want = [], []
    for seed in (0, 1):
        cfg = tiny(train_steps=200, seed=seed, das_steps=150, das_patience=50, map=map_family)
        for model, stream in ((train_model(cfg)[0], "das"), (untrained_model(cfg), "das-u")):
            pairs = pair_set(model, cfg)
            first = das_start(model, cfg, pairs)
            jobs.append(DASJob(model, pairs.train, pairs.val, pairs.test,
                               generator(seed, stream), first, "neuron"))
            want.append(train_das(model, pairs.train, pairs.val, pairs.test, cfg.das.k,
                                  cfg.das, generator(seed, stream), first=first,
                                  first_name="neuron"))
    got = train_das_networks(jobs, cfg.das.k, cfg.das)
    for a, b in zip(got, want):
        assert torch.equal(a.maps, b.maps) and torch.equal(a.map, b.map)
        assert a.history.equals(b.history) and a.restarts.equals(b.restarts)
        assert (a.steps_used, a.converged, a.test) == (b.steps_used, b.converged, b.test)
    assert len({r.steps_used for r in got}) > 1  # they stopped at different steps
