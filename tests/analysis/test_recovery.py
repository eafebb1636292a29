"""analysis.recovery: read subspaces, the two angles and the verdict, by hand."""

import math

import pytest
import torch

from explorer.analysis.recovery import (max_angle_deg, read_subspace, readout_gradients,
                                        recovery, used_angle_deg)
from explorer.core.config import ModelConfig
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.core.rng import generator

E = torch.eye(4, dtype=torch.float64)


def test_read_subspace_of_units_rotations_and_linear_maps():
    mask = block_mask(2, 2, 4)
    assert torch.equal(read_subspace(None, mask, 1), E[:, 2:4])
    c, s = math.cos(0.3), math.sin(0.3)
    rot = torch.tensor([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    assert max_angle_deg(read_subspace(rot, mask, 0), E[:, :2]) < 1e-4  # a plane in itself
    one = block_mask(1, 2, 4)
    assert max_angle_deg(read_subspace(rot, one, 0), rot[:, :1].double()) < 1e-4
    # a general linear map reads coordinate 0 along its first column: (1, 1, 0, 0) / sqrt 2
    w = torch.eye(4)
    w[1, 0] = 1.0
    got = read_subspace(w, one, 0)
    assert max_angle_deg(got, torch.tensor([[1.0], [1.0], [0.0], [0.0]])) < 1e-4
    with pytest.raises(ValueError):
        read_subspace(object(), one, 0)  # a non-linear map needs states


def test_angles_and_the_verdict_by_hand():
    planted = E[:, :2]  # span(e1, e2); the network reads only e1
    grads = torch.zeros(5, 4, dtype=torch.float64)
    grads[:, 0], grads[:, 3] = 1.0, 7.0  # e4 is outside the plant: ignored
    holds_read = torch.stack([E[0], E[2]], 1)  # span(e1, e3)
    misses_read = torch.stack([E[1], E[2]], 1)  # span(e2, e3)
    assert max_angle_deg(holds_read, planted) == pytest.approx(90.0)
    assert used_angle_deg(holds_read, planted, grads) == pytest.approx(0.0, abs=1e-6)
    assert used_angle_deg(misses_read, planted, grads) == pytest.approx(90.0)
    tilted = torch.stack([E[0] + E[2], E[1]], 1)  # e1 at 45 degrees
    assert used_angle_deg(tilted, planted, grads) == pytest.approx(45.0)
    good = recovery("m", 0.99, [holds_read], [planted], 0.995, grads)
    assert good.found is True and good.found_strict is False
    exact = recovery("m", 0.99, [planted], [planted], 0.995, grads)
    assert exact.found and exact.found_strict and exact.max_angle_deg < 1e-6
    assert recovery("m", 0.90, [planted], [planted], 0.995, grads).found is False  # low IIA
    assert recovery("m", 0.99, [misses_read], [planted], 0.995, grads).found is False
    other = recovery("m", 0.99, [planted], [planted], None, grads)  # another hypothesis
    assert other.found is None and other.angles_deg == (0.0,)
    assert recovery("m", 0.5, [planted], None, None).as_dict()["found"] is None


def test_readout_gradients_match_finite_differences():
    model = MLP(4, ModelConfig(activation="tanh", width=5, layers=2), generator(0, "g"))
    states = torch.randn(3, 5, generator=generator(1, "g"))
    grads = readout_gradients(model, 1, states)
    eps = 1e-3
    for j in range(5):
        step = torch.zeros(5)
        step[j] = eps
        fd = (model.forward_from(1, states + step) - model.forward_from(1, states - step)) / (2 * eps)
        torch.testing.assert_close(grads[:, j], fd.detach(), atol=1e-3, rtol=1e-3)
