"""Did a method recover a planted alignment? Its IIA, and the angles between the subspace
it swaps and the planted one, per variable.

The subspace an alignment swaps is the one whose coordinates it copies from the source:
the read directions of the coordinates variable v owns (as `analysis.subspaces.subspace`).

    matrix R (h -> h @ R)          R's columns at v's coordinates (orthonormalized; unit
                                   vectors for the neuron-wise search, R = I)
    non-linear map F (forward/inverse)   the gradients of F's coordinates j in v with respect
                                   to h vary with the state: they are stacked over sample
                                   states and the top-k left singular vectors taken (k = v's
                                   size), the subspace that best holds every state's read
                                   directions; for a map at the identity coupling this is R's.

Two angles per variable, each in degrees:

    max_angle    the largest principal angle between the found and the planted subspace
    used_angle   the angle between the found subspace and the directions of the planted one
                 the network actually reads: the gradient of the output logit at the site,
                 projected onto the planted subspace, over sample states (G, m x d); cos^2 of
                 the angle is the fraction of G's energy inside the found subspace

A plant of k dims is identifiable only up to the directions the network does not read: IIT
makes swapping the planted subspace carry the variable, but if the network reads V1 along one
direction of a 4-dim plant (measured: the projected gradient has rank ~1 at 3x16), any
subspace holding that direction and three unread ones swaps just as well, and no
interchange-based method can tell them apart. So a method *found* the plant when its IIA is
at least the planted alignment's own IIA minus `IIA_TOLERANCE` and its used angle (max over
variables) is at most `ANGLE_TOLERANCE_DEG`; *found_strict* also asks the same of the largest
principal angle to the whole planted subspace. Subspaces may differ in size (Boundless
learns them): one that contains the planted subspace scores 0, so `dims` is reported too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from explorer.analysis.subspaces import orthonormalize, principal_angles
from explorer.core.vocabulary import ANGLE_TOLERANCE_DEG, IIA_TOLERANCE  # noqa: F401  (re-exported)


def read_subspace(alignment, var_mask: torch.Tensor, var: int, *,
                  states: torch.Tensor | None = None) -> torch.Tensor:
    """An orthonormal basis (d, k_v) of what variable `var`'s swap reads. alignment: a
    matrix (d, d), a map with forward/inverse (needs `states` (m, d)), or None for the
    identity (neuron-wise)."""
    owned = var_mask[var] > 0.5
    d = var_mask.shape[-1]
    if alignment is None:
        return torch.eye(d, dtype=torch.float64)[:, owned]
    if isinstance(alignment, torch.Tensor):
        return orthonormalize(alignment[:, owned])
    if states is None:
        raise ValueError("a non-linear map needs sample states to linearize it at")
    with torch.enable_grad():
        h = states.detach().clone().requires_grad_(True)
        coords = alignment.forward(h)  # (m, d)
        rows = [torch.autograd.grad(coords[:, j].sum(), h, retain_graph=True)[0]
                for j in owned.nonzero().flatten().tolist()]  # each (m, d): d r_j / d h
    stacked = torch.cat(rows, dim=0).T.double()  # (d, m * k)
    u, _, _ = torch.linalg.svd(stacked, full_matrices=False)
    return u[:, :len(rows)]


def max_angle_deg(found: torch.Tensor, planted: torch.Tensor) -> float:
    """Largest principal angle between span(found) and span(planted), in degrees."""
    angles = principal_angles(found, planted)
    return math.degrees(float(angles.max())) if angles.numel() else 90.0


def readout_gradients(model, site: int, states: torch.Tensor) -> torch.Tensor:
    """Gradient of the output logit with respect to the site's state, at each state: (m, d)."""
    h = states.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(model.forward_from(site, h).sum(), h)
    return grad


def used_angle_deg(found: torch.Tensor, planted: torch.Tensor, grads: torch.Tensor) -> float:
    """Angle between span(found) and the read directions of span(planted): grads (m, d)."""
    q_p, q_f = orthonormalize(planted), orthonormalize(found)
    g = grads.double() @ q_p @ q_p.T  # (m, d): the gradient's part inside the plant
    total = float((g ** 2).sum())
    if total <= 0.0 or q_f.shape[1] == 0:
        return 90.0
    inside = float(((g @ q_f) ** 2).sum())
    return math.degrees(math.acos(min(1.0, math.sqrt(inside / total))))


@dataclass(frozen=True)
class Recovery:
    method: str
    iia: float
    angles_deg: tuple[float, ...]  # per variable: largest principal angle to its plant
    used_deg: tuple[float, ...]  # per variable: angle to the plant's read directions
    dims: tuple[int, ...]  # per variable: size of the found subspace
    found: bool | None  # None when nothing was planted or the hypothesis is another
    found_strict: bool | None
    details: dict = field(default_factory=dict)  # method-specific (units, sizes, ...)

    @property
    def max_angle_deg(self) -> float | None:
        return max(self.angles_deg) if self.angles_deg else None

    @property
    def used_angle_deg(self) -> float | None:
        return max(self.used_deg) if self.used_deg else None

    def as_dict(self) -> dict:
        return {"iia": self.iia, "max_angle_deg": self.max_angle_deg,
                "used_angle_deg": self.used_angle_deg, "angles_deg": list(self.angles_deg),
                "used_angles_deg": list(self.used_deg), "dims": list(self.dims),
                "found": self.found, "found_strict": self.found_strict, **self.details}


def recovery(method: str, iia: float, found: list[torch.Tensor],
             planted: list[torch.Tensor] | None, planted_iia: float | None,
             grads: torch.Tensor | None = None, details: dict | None = None) -> Recovery:
    """found[v], planted[v]: bases (d, k) per variable; grads (m, d) from
    `readout_gradients`. planted None: nothing planted (no angles); planted_iia None:
    angles but no verdict (e.g. another hypothesis on the planted network)."""
    dims, details = tuple(int(f.shape[1]) for f in found), details or {}
    if planted is None:
        return Recovery(method, iia, (), (), dims, None, None, details)
    angles = tuple(max_angle_deg(f, p) for f, p in zip(found, planted))
    used = tuple(used_angle_deg(f, p, grads) for f, p in zip(found, planted)) \
        if grads is not None else ()
    if planted_iia is None or not used:
        return Recovery(method, iia, angles, used, dims, None, None, details)
    good_iia = iia >= planted_iia - IIA_TOLERANCE
    found_used = good_iia and max(used) <= ANGLE_TOLERANCE_DEG
    strict = found_used and max(angles) <= ANGLE_TOLERANCE_DEG
    return Recovery(method, iia, angles, used, dims, bool(found_used), bool(strict), details)
