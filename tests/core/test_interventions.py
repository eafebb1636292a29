import numpy as np
import torch

from explorer.core.interventions import block_mask, interchange, pair_mask, random_rotation
from explorer.core.rng import generator


def _numpy_swap(base, sources, intervened, dims, R):
    """Oracle: rotate, copy each intervened variable's coordinates from its source, rotate back."""
    out = []
    for n in range(base.shape[0]):
        r = base[n] @ R
        for v, owned in enumerate(dims):
            if intervened[n, v]:
                r[owned] = (sources[n, v] @ R)[owned]
        out.append(r @ R.T)
    return np.stack(out)


def test_interchange_matches_a_numpy_oracle_with_rotation_and_identity():
    g = generator(0, "t")
    base, sources = torch.randn(20, 6, generator=g), torch.randn(20, 2, 6, generator=g)
    intervened = torch.rand(20, 2, generator=g) > 0.4
    mask = block_mask(2, 2, 6)
    dims = [np.arange(0, 2), np.arange(2, 4)]
    R = random_rotation(6, g)
    for rot in (R, None):
        got = interchange(base, sources, pair_mask(mask, intervened), rot)
        R_np = np.eye(6) if rot is None else rot.double().numpy()
        want = _numpy_swap(base.double().numpy(), sources.double().numpy(),
                           intervened.numpy(), dims, R_np)
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


def test_full_and_empty_masks_and_general_inverse():
    g = generator(1, "t")
    base, sources = torch.randn(5, 4, generator=g), torch.randn(5, 1, 4, generator=g)
    W = torch.randn(4, 4, generator=g) + 3 * torch.eye(4)
    ones, zeros = torch.ones(1, 4), torch.zeros(1, 4)
    torch.testing.assert_close(interchange(base, sources, ones, W, torch.linalg.inv(W)),
                               sources[:, 0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(interchange(base, sources, zeros, W, torch.linalg.inv(W)), base,
                               atol=1e-4, rtol=1e-4)


def test_batched_masks_broadcast_like_a_loop():
    g = generator(2, "t")
    base, sources = torch.randn(7, 5, generator=g), torch.randn(7, 1, 5, generator=g)
    masks = (torch.rand(3, 1, 5, generator=g) > 0.5).float()
    batched = interchange(base, sources, masks.unsqueeze(1))
    for s in range(3):
        torch.testing.assert_close(batched[s], interchange(base, sources, masks[s]))


def test_random_rotation_is_orthogonal():
    R = random_rotation(16, generator(0, "r"))
    torch.testing.assert_close(R @ R.T, torch.eye(16), atol=1e-5, rtol=0)


def test_a_batch_of_maps_equals_one_map_at_a_time():
    """(r, d, d) maps at once, as DAS trains its restarts, against each map alone."""
    g = generator(3, "t")
    base, sources = torch.randn(9, 6, generator=g), torch.randn(9, 2, 6, generator=g)
    mask = pair_mask(block_mask(2, 2, 6), torch.rand(9, 2, generator=g) > 0.3)
    maps = torch.randn(4, 6, 6, generator=g) + 3 * torch.eye(6)
    inverses = torch.linalg.inv(maps)
    batched = interchange(base, sources, mask, maps, inverses)
    assert batched.shape == (4, 9, 6)
    for i in range(4):
        torch.testing.assert_close(batched[i], interchange(base, sources, mask, maps[i],
                                                           inverses[i]), atol=1e-5, rtol=1e-5)
