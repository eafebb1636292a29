"""methods.iit: plants (units, rotation, seed), their JSON form and its validation, and the
interchange loss against the causal model (training itself: tests/runs/test_planting.py)."""

import pytest
import torch

from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.core.rng import generator
from explorer.core.task import sample_pairs
from explorer.core.train import entities_for, new_model
from explorer.methods.iit import Plant, iit_losses, make_plant

CFG = RunConfig().with_values(site=1, k=4)


def test_plants_are_what_they_say_and_their_seed_reproduces_them():
    loc = make_plant("localist", 16, 1, 4, seed=3)
    flat = [u for s in loc.units for u in s]
    assert len(set(flat)) == 8 and all(len(s) == 4 for s in loc.units)
    h = torch.randn(5, 16)
    torch.testing.assert_close((h @ loc.rotation)[:, :8], h[:, flat])  # V1's units, V2's
    rot = make_plant("rotated", 16, 1, 4, seed=3)
    torch.testing.assert_close(rot.rotation.T @ rot.rotation, torch.eye(16), atol=1e-5, rtol=0)
    assert torch.equal(rot.rotation, make_plant("rotated", 16, 1, 4, seed=3).rotation)
    assert not torch.equal(rot.rotation, make_plant("rotated", 16, 1, 4, seed=4).rotation)
    assert make_plant("none", 16, 1, 4, seed=3).rotation is None
    for bad in (("rotated", 0, 4), ("rotated", 1, 9), ("spread", 1, 4)):
        with pytest.raises(ValueError):
            make_plant(bad[0], 16, bad[1], bad[2], seed=0)


def test_json_round_trip_and_bad_metadata_is_refused():
    for form in ("localist", "rotated", "none"):
        plant = make_plant(form, 16, 1, 4, seed=1)
        back = Plant.from_json(plant.to_json(), CFG)
        assert back.units == plant.units and back.form == form
        if plant.rotation is not None:
            assert torch.equal(back.rotation, plant.rotation)
    good = make_plant("localist", 16, 1, 4, seed=1).to_json()
    broken = [{**good, "units": [[0, 1, 2, 3], [3, 4, 5, 6]]},  # overlapping units
              {**good, "units": [[0, 1, 2, 3], [4, 5, 6, 7]]},  # not the rotation's units
              {**good, "site": 7}, {**good, "k": "4"}, {**good, "rotation": None},
              {**good, "rotation": [[1.0] * 16] * 16}, {"form": "localist"}]
    for meta in broken:
        with pytest.raises(ValueError):
            Plant.from_json(meta, CFG)


def test_iit_losses_match_a_swap_built_by_hand():
    """Oracle: rotate each base state, copy each intervened variable's k coordinates from
    its source, rotate back, finish the pass; BCE against the causal model's labels."""
    plant = make_plant("rotated", 16, 1, 4, seed=0)
    pairs = sample_pairs(48, 2, entities_for(CFG), "train", generator(0, "p"))
    model = new_model(CFG)
    task, iit, logits = iit_losses(model, plant, pairs)
    assert task.requires_grad and iit.requires_grad and logits.shape == (48,)
    R, bce = plant.rotation, torch.nn.functional.binary_cross_entropy_with_logits
    with torch.no_grad():
        out = []
        for n in range(48):
            r = model.hidden(pairs.base.x[n], 1) @ R
            for v in range(2):
                if pairs.intervened[n, v]:
                    own = slice(4 * v, 4 * v + 4)
                    r[own] = (model.hidden(pairs.sources[n, v], 1) @ R)[own]
            out.append(model.forward_from(1, r @ R.T))
        labels = CAUSAL_MODELS["both"].counterfactual(pairs.base.x, pairs.sources, pairs.intervened)
        want_iit = bce(torch.stack(out), labels.float())
        want_task = bce(model(pairs.base.x), CAUSAL_MODELS["both"].run(pairs.base.x).float())
    assert float(iit) == pytest.approx(float(want_iit), abs=1e-5)
    assert float(task) == pytest.approx(float(want_task), abs=1e-6)
