"""A hand-built ReLU network that solves hierarchical equality with a known, exact,
neuron-wise alignment: a known answer the searches must find.

    layer 1: relu(a - b), relu(b - a)  -> units [0, 2D)   hold V1 (all zero iff a == b)
             relu(c - d), relu(d - c)  -> units [2D, 4D)  hold V2
    layer 2: e1 = relu(1 - K * sum |a - b|), e2 = relu(1 - K * sum |c - d|)  (1 iff equal)
    layer 3: relu(e1 - e2), relu(e2 - e1)                                     (1 iff differ)
    readout: 1 - 2 * (sum of layer 3)                                         (> 0 iff V1 == V2)
"""

from __future__ import annotations

import torch

from explorer.core.config import ModelConfig
from explorer.core.models import MLP

SHARPNESS = 1000.0  # K: |a - b|_1 above 1/K counts as "different"


def equality_network(entity_dim: int = 4) -> MLP:
    dim = entity_dim
    model = MLP(4 * dim, ModelConfig(activation="relu", width=4 * dim, layers=3))
    eye = torch.eye(dim)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        l1, l2, l3 = model.hidden_layers
        for pair in range(2):  # (a, b) then (c, d)
            rows, cols = slice(2 * dim * pair, 2 * dim * (pair + 1)), 2 * dim * pair
            first, second = slice(cols, cols + dim), slice(cols + dim, cols + 2 * dim)
            block = l1.weight[rows]
            block[:dim, first], block[:dim, second] = eye, -eye
            block[dim:, first], block[dim:, second] = -eye, eye
            l2.weight[pair, rows] = -SHARPNESS
            l2.bias[pair] = 1.0
        l3.weight[0, :2] = torch.tensor([1.0, -1.0])
        l3.weight[1, :2] = torch.tensor([-1.0, 1.0])
        model.readout.weight[0, :2] = -2.0
        model.readout.bias[0] = 1.0
    return model.eval().requires_grad_(False)


def exact_units(entity_dim: int = 4) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Layer-1 units holding V1 and V2."""
    d2 = 2 * entity_dim
    return tuple(range(d2)), tuple(range(d2, 2 * d2))
