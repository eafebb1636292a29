"""core.rng: named streams are reproducible and independent."""

import torch

from explorer.core.rng import derive_seed, generator


def test_same_names_same_stream_and_other_names_another():
    a = torch.rand(5, generator=generator(3, "das", 1))
    assert torch.equal(a, torch.rand(5, generator=generator(3, "das", 1)))
    for other in (generator(4, "das", 1), generator(3, "das", 2), generator(3, "train", 1)):
        assert not torch.equal(a, torch.rand(5, generator=other))


def test_a_new_stream_does_not_shift_another():
    first = torch.rand(5, generator=generator(0, "train"))
    torch.rand(100, generator=generator(0, "extra"))  # another phase draws in between
    torch.rand(3)  # and so does the global generator
    assert torch.equal(first, torch.rand(5, generator=generator(0, "train")))


def test_derived_seeds_are_order_sensitive_and_in_range():
    assert derive_seed(0, "a", "b") != derive_seed(0, "b", "a")
    seeds = {derive_seed(s, "x") for s in range(200)}
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
