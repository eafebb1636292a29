"""The one interchange primitive every method uses.

A site's state h (d dims) is mapped to coordinates r = h @ R. Each high-level variable v
owns a (soft or 0/1) mask m_v over the d coordinates; the intervened coordinates are

    r' = r_base + sum_v m_v * (r_source_v - r_base)

and the state is mapped back with R's inverse (R^T for a rotation). Neuron-wise search is
R = I with a 0/1 mask, DAS a learned orthogonal R with a 0/1 block mask, Boundless DAS a
learned R with a soft mask, a full-layer patch R = I with an all-ones mask.

R may also be a non-linear invertible map: any object with `forward(h)` and `inverse(r)`
(e.g. `explorer.methods.revnet.RevNet`). Both act on (..., m, d) like a stack of matrices
(leading dims broadcast against the map's own batch of restarts); the swap is done in the
map's output coordinates and mapped back through its exact inverse.
"""

from __future__ import annotations

import torch


def interchange(base_h: torch.Tensor, source_h: torch.Tensor, mask: torch.Tensor,
                rotation: torch.Tensor | None = None,
                inverse: torch.Tensor | None = None) -> torch.Tensor:
    """base_h (n, d); source_h (n, V, d); mask broadcastable to (..., n, V, d);
    rotation (..., d, d), an invertible map object (forward/inverse; `inverse` unused), or
    None for the identity; inverse defaults to rotation^T.
    Returns the intervened state (..., n, d)."""
    if rotation is None:
        diff = source_h - base_h.unsqueeze(-2)  # (n, V, d)
        if diff.shape[-2] == 1 and mask.shape[-2] == 1:  # one variable: a fused multiply-add
            return torch.addcmul(base_h, mask.squeeze(-2), diff.squeeze(-2))
        return base_h + (mask * diff).sum(-2)
    if not isinstance(rotation, torch.Tensor):  # an invertible map object
        return _interchange_map(base_h, source_h, mask, rotation)
    inverse = rotation.transpose(-1, -2) if inverse is None else inverse
    r_base = base_h @ rotation  # (..., n, d)
    n, n_vars, d = source_h.shape
    # one (n V, d) @ (d, d) product per map: broadcasting source_h @ rotation.unsqueeze(-3)
    # would copy every map once per pair, (..., n, d, d), which cost most of a DAS step
    r_source = (source_h.reshape(n * n_vars, d) @ rotation).reshape(
        *rotation.shape[:-2], n, n_vars, d)  # (..., n, V, d)
    r_new = r_base + (mask * (r_source - r_base.unsqueeze(-2))).sum(-2)
    return r_new @ inverse


def _interchange_map(base_h: torch.Tensor, source_h: torch.Tensor, mask: torch.Tensor,
                     fmap) -> torch.Tensor:
    n, n_src = base_h.shape[-2], source_h.shape[-3:-1]
    flat_src = source_h.flatten(-3, -2)  # (..., n * V, d)
    if base_h.shape[:-2] == flat_src.shape[:-2]:  # one pass through the map for both
        coords = fmap.forward(torch.cat([base_h, flat_src], dim=-2))
        r_base, r_flat = coords[..., :n, :], coords[..., n:, :]
    else:
        r_base, r_flat = fmap.forward(base_h), fmap.forward(flat_src)
    r_source = r_flat.unflatten(-2, n_src)  # (..., n, V, d)
    r_new = r_base + (mask * (r_source - r_base.unsqueeze(-2))).sum(-2)
    return fmap.inverse(r_new)


def block_mask(k: int, n_vars: int, d: int) -> torch.Tensor:
    """Variable i owns coordinates [i*k, (i+1)*k): (n_vars, d) float."""
    mask = torch.zeros(n_vars, d)
    for i in range(n_vars):
        mask[i, i * k:(i + 1) * k] = 1.0
    return mask


def pair_mask(var_mask: torch.Tensor, intervened: torch.Tensor) -> torch.Tensor:
    """Per-pair mask: variable masks (..., V, d) switched off where a variable is not
    intervened on, intervened (n, V) bool -> (..., n, V, d)."""
    return var_mask.unsqueeze(-3) * intervened.unsqueeze(-1).to(var_mask.dtype)


def random_rotation(d: int, gen: torch.Generator) -> torch.Tensor:
    """A Haar-random orthogonal matrix (d, d)."""
    q, r = torch.linalg.qr(torch.randn(d, d, generator=gen))
    return q * torch.sign(torch.diagonal(r)).unsqueeze(0)
