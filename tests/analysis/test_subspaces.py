"""analysis.subspaces: principal angles against hand-computed cases."""

import math

import torch

from explorer.analysis.subspaces import coordinate_blocks, orthonormalize, principal_angles


def test_principal_angles_by_hand():
    e = torch.eye(4, dtype=torch.float64)  # results are float64
    assert torch.allclose(principal_angles(e[:, :2], e[:, :2]), torch.zeros(2).double(),
                          atol=1e-6)
    assert torch.allclose(principal_angles(e[:, :2], e[:, 2:]),
                          torch.full((2,), math.pi / 2).double(), atol=1e-6)
    theta = 0.3  # one direction tilted by theta inside the (0, 2) plane
    tilted = torch.stack([e[0] * math.cos(theta) + e[2] * math.sin(theta), e[1]], dim=1)
    assert torch.allclose(principal_angles(e[:, :2], tilted).sort().values,
                          torch.tensor([0.0, theta]).double(), atol=1e-5)


def test_orthonormalize_spans_the_same_space_and_drops_dependent_columns():
    a = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]).double()  # c3 = c1 + c2
    q = orthonormalize(a)
    assert q.shape == (3, 2)
    assert torch.allclose(q.T @ q, torch.eye(2).double(), atol=1e-6)
    assert torch.allclose(q @ (q.T @ a), a, atol=1e-5)


def test_coordinate_blocks_hold_a_b_and_c_d():
    blocks = coordinate_blocks(entity_dim=2)
    v1, v2 = blocks.subspace(0), blocks.subspace(1)
    assert set(v1.abs().sum(1).nonzero().flatten().tolist()) == {0, 1, 2, 3}
    assert set(v2.abs().sum(1).nonzero().flatten().tolist()) == {4, 5, 6, 7}
