"""Controls that every alignment result carries.

* untrained: the same DAS on an untrained network of the same shape (does training matter?)
* random rotation: a Haar-random rotation with the same block mask (is learning needed?)
* closest signed permutation: the learned rotation snapped to units (localist or distributed?)
* full-layer patch: the whole state copied from the first intervened variable's source
  (is the alignment variable-specific, or does copying everything do as well?)
The no-intervention baseline is part of every `IIA` report.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from explorer.core.iia import IIA, SiteData, evaluate
from explorer.core.interventions import random_rotation
from explorer.core.models import MLP


def closest_signed_permutation(rotation: torch.Tensor) -> torch.Tensor:
    """The signed permutation P maximizing <P, R> (Hungarian assignment on |R|): (d, d)."""
    from scipy.optimize import linear_sum_assignment  # here: ~0.5 s to import

    rows, cols = linear_sum_assignment(rotation.abs().numpy(), maximize=True)
    perm = torch.zeros_like(rotation)
    perm[rows, cols] = torch.sign(rotation[rows, cols])
    return perm


def random_rotation_iia(model: MLP, test: SiteData, var_mask: torch.Tensor,
                        gen: torch.Generator) -> IIA:
    return evaluate(model, test, var_mask, random_rotation(test.base_h.shape[-1], gen))


def permutation_iia(model: MLP, test: SiteData, var_mask: torch.Tensor,
                    rotation: torch.Tensor) -> IIA:
    return evaluate(model, test, var_mask, closest_signed_permutation(rotation))


def full_layer_iia(model: MLP, test: SiteData) -> IIA:
    """Copy the entire state from the first intervened variable's source."""
    first = test.intervened.int().argmax(-1)
    only_first = torch.nn.functional.one_hot(first, test.intervened.shape[1]).bool()
    patched = replace(test, intervened=only_first)
    return evaluate(model, patched, torch.ones(test.source_h.shape[1:]))


def permutation_units(rotation: torch.Tensor, var_mask: torch.Tensor) -> list[list[int]]:
    """Units the snapped permutation assigns to each variable's rotated coordinates."""
    perm = closest_signed_permutation(rotation)  # h @ perm: coordinate j reads unit argmax
    units = perm.abs().argmax(0)  # (d,) unit feeding each rotated coordinate
    return [sorted(units[row.bool()].tolist()) for row in var_mask]
