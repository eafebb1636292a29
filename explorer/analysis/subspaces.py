"""Subspaces of a site: what an alignment swaps, how far apart two subspaces are, and the
exact alignments known at the input.

An alignment (`explorer.core.alignment.Alignment`) is a map R (d, d) plus a variable mask
(V, d): h is read as coordinates h @ R, so variable v's subspace is spanned by the columns
of R at the coordinates v owns (mask > 0.5). For an orthogonal R that is also where the
swap writes.

Principal angles between span(A) and span(B): orthonormalize both (Q_A, Q_B), take the
singular values s_i of Q_A^T Q_B, angle_i = arccos(s_i), ascending; 0 = a shared direction,
pi/2 = orthogonal directions. Computed in float64.

Input oracles (site 0, entities a, b, c, d of D dims laid out in that order):
* coordinate blocks: R = I, V1 = the 2D coordinates of (a, b), V2 those of (c, d);
* difference subspaces: V1 = span((a_i - b_i)/sqrt 2), V2 = span((c_i - d_i)/sqrt 2), D dims
  each, completed by the sums (a_i + b_i)/sqrt 2, (c_i + d_i)/sqrt 2. Swapping the difference
  sets the base's a - b to the source's and keeps a + b: V1 is exactly the source's.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd
import torch

from explorer.core.alignment import Alignment, subspace
from explorer.core.interventions import block_mask


def orthonormalize(a: torch.Tensor, rtol: float = 1e-6, atol: float = 0.0) -> torch.Tensor:
    """An orthonormal basis of span(a) (d, p) in float64: (d, rank), keeping the singular
    directions above max(rtol x the largest, atol); rank-deficient and empty a are fine."""
    u, s, _ = torch.linalg.svd(a.double(), full_matrices=False)
    if s.numel() == 0:
        return u[:, :0]
    return u[:, (s > rtol * s.max()) & (s > atol)]


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles between span(a) (d, p) and span(b) (d, q): (min rank,) radians,
    ascending, float64."""
    qa, qb = orthonormalize(a), orthonormalize(b)
    cos = torch.linalg.svdvals(qa.T @ qb).clamp(0.0, 1.0)  # descending
    return torch.arccos(cos)


def complete_basis(basis: torch.Tensor) -> torch.Tensor:
    """A rotation (d, d) whose first k columns are the orthonormal `basis` (d, k) and whose
    others span its orthogonal complement."""
    d, k = basis.shape
    basis = basis.double()
    u, _, _ = torch.linalg.svd(torch.eye(d, dtype=basis.dtype) - basis @ basis.T)
    return torch.cat([basis, u[:, :d - k]], dim=1).to(torch.get_default_dtype())


def basis_alignment(basis: torch.Tensor, var: int, n_vars: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Swap exactly span(basis) (d, p) as variable `var` (k = its rank), nothing for the
    others: (rotation (d, d), var_mask (n_vars, d))."""
    basis = orthonormalize(basis)
    d, k = basis.shape
    mask = torch.zeros(n_vars, d)
    mask[var, :k] = 1.0
    return complete_basis(basis), mask


def coordinate_blocks(entity_dim: int, n_vars: int = 2) -> Alignment:
    d = 4 * entity_dim
    return Alignment("coordinates", block_mask(2 * entity_dim, 2, d)[:n_vars], torch.eye(d))


def difference_subspaces(entity_dim: int, n_vars: int = 2) -> Alignment:
    """Columns: (a-b), (c-d), (a+b), (c+d), each / sqrt 2, entity dim by entity dim."""
    dim, eye = entity_dim, torch.eye(entity_dim)
    pick = torch.zeros(4, 4 * dim, dim)  # entity e's coordinates as columns
    for e in range(4):
        pick[e, e * dim:(e + 1) * dim] = eye
    a, b, c, d = pick
    cols = [a - b, c - d, a + b, c + d]
    rotation = torch.cat(cols, dim=1) / math.sqrt(2.0)
    return Alignment("differences", block_mask(dim, 2, 4 * dim)[:n_vars], rotation)


def input_oracles(entity_dim: int, n_vars: int = 2) -> tuple[Alignment, ...]:
    return coordinate_blocks(entity_dim, n_vars), difference_subspaces(entity_dim, n_vars)


def named_subspaces(name: str, rotation: torch.Tensor, var_mask: torch.Tensor,
                    var_names: tuple[str, ...] = ("V1", "V2")) -> dict[str, torch.Tensor]:
    """{"name/V1": (d, k1), "name/V2": (d, k2)} for an alignment."""
    return {f"{name}/{v}": subspace(rotation, var_mask, i)
            for i, v in enumerate(var_names[:var_mask.shape[0]])}


def pairwise_angles(subspaces: dict[str, torch.Tensor]) -> pd.DataFrame:
    """Principal angles between every pair of named subspaces (restarts, seeds, oracles,
    V1 vs V2): long form a, b, index, angle (radians), degrees, dim_a, dim_b."""
    rows = []
    for (na, a), (nb, b) in itertools.combinations(subspaces.items(), 2):
        for i, angle in enumerate(principal_angles(a, b).tolist()):
            rows.append({"a": na, "b": nb, "index": i, "angle": angle,
                         "degrees": math.degrees(angle), "dim_a": a.shape[1],
                         "dim_b": b.shape[1]})
    return pd.DataFrame(rows, columns=["a", "b", "index", "angle", "degrees", "dim_a", "dim_b"])
