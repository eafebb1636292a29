"""explorer.core.alignment: one Alignment for every use (swaps, subspaces, oracles); its
subspaces checked against columns picked by hand."""

import torch

from explorer.analysis import subspaces, swaps
from explorer.core.alignment import Alignment, subspace
from explorer.core.interventions import random_rotation
from explorer.core.rng import generator


def test_a_subspace_is_the_maps_columns_at_the_variables_coordinates():
    rotation = random_rotation(6, generator(0, "test-alignment"))
    mask = torch.tensor([[1., 1., 0., 0., 0., 0.], [0., 0., 0., 1., 0., 1.]])
    align = Alignment("custom", mask, rotation)
    assert torch.equal(align.subspace(0), rotation[:, [0, 1]])
    assert torch.equal(align.subspace(1), rotation[:, [3, 5]])
    assert torch.equal(subspace(rotation, mask, 1), rotation[:, [3, 5]])
    assert align.k == 2


def test_no_map_is_the_identity():
    mask = torch.tensor([[0., 1., 1., 0.], [1., 0., 0., 0.]])
    align = Alignment("neuron-wise", mask)
    assert torch.equal(align.subspace(0), torch.eye(4)[:, [1, 2]])
    assert torch.equal(align.subspace(1), torch.eye(4)[:, [0]])


def test_swaps_and_oracles_build_the_one_class():
    built = [*subspaces.input_oracles(2), *swaps.alignments(None, None, 2, 8)]
    assert {type(a) for a in built} == {Alignment}
    assert [a.name for a in built] == ["coordinates", "differences", "full layer",
                                       swaps.NO_INTERVENTION]
