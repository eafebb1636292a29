"""map = revnet through the normal pipeline: config validation, keys, the CLI run, and the
controls that need a matrix saying they do not apply."""

import json
import math

import pytest

from explorer.cli import main
from explorer.core.config import ConfigError, RunConfig, tiny, validate
from explorer.core.identity import model_key, point_key
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.train import train_model
from explorer.methods.das import units_permutation
from explorer.methods.steps import run_neuron
from explorer.methods.revnet import CouplingMap, train_revnet

TINY = dict(train_steps=400, eval_size=1024, das_steps=150, restarts=2, n_train_pairs=1024,
            n_val_pairs=256, n_test_pairs=512, n_search_pairs=256)


@pytest.mark.parametrize("width", [0, 65])
def test_map_width_out_of_range_names_the_field_and_range(width):
    with pytest.raises(ConfigError) as err:
        validate(RunConfig().with_values(map="revnet", map_width=width))
    assert err.value.field == "map_width" and "between 1 and 64" in err.value.message
    with pytest.raises(ConfigError, match="map: must be one of orthogonal, linear, revnet"):
        validate(RunConfig().with_values(map="flow"))


def test_map_width_enters_keys_only_when_not_the_default():
    cfg = RunConfig()
    assert point_key(cfg, "das") == point_key(cfg.with_values(map_width=8), "das")
    assert point_key(cfg, "das") != point_key(cfg.with_values(map_width=4), "das")
    assert model_key(cfg) == model_key(cfg.with_values(map="revnet", map_width=4))


def test_revnet_memory_is_estimated_and_the_widest_map_fits_the_widest_site():
    wide = RunConfig().with_values(width=128)
    from explorer.core.config import memory_estimate
    assert memory_estimate(wide.with_values(map="revnet", map_width=64)) > memory_estimate(wide)
    validate(wide.with_values(map="revnet", map_width=64))  # within the 2 GiB budget


def test_cli_revnet_run_equals_train_revnet_called_directly(tmp_path):
    out = tmp_path / "rev.json"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    assert main(["run", *flags, "--map", "revnet", "--map-width", "2", "--quiet",
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["das"]["map_family"] == "revnet" and report["das"]["map_width"] == 2
    assert report["config"]["map"] == "revnet" and report["config"]["map_width"] == 2
    assert math.isnan(report["controls"]["closest_permutation_iia"])
    assert report["controls"]["verdicts"]["closest_permutation"] == "n/a"
    assert report["controls"]["closest_permutation_units"] is None
    # flags not given take the RevNet map's own budget (config.REVNET_BUDGET)
    from explorer.core.config import REVNET_BUDGET, RunConfig
    assert all(report["config"][k] == v for k, v in REVNET_BUDGET.items() if k not in TINY)
    # the same by hand: the same model, pairs, neuron-wise start and generator stream
    cfg = RunConfig.from_flat(report["config"])
    assert cfg == tiny(map="revnet", map_width=2).with_values(
        **{k: v for k, v in REVNET_BUDGET.items() if k not in TINY})
    model, _ = train_model(cfg)
    pairs = pair_set(model, cfg)
    first = units_permutation(run_neuron(model, cfg, pairs).subsets, 16)
    found = train_revnet(model, pairs.train, pairs.val, pairs.test, cfg.das.k, cfg.das,
                         generator(cfg.seed, "das"), first=first)
    assert isinstance(found.map, CouplingMap) and found.width == 2
    assert report["das"]["iia"] == found.test.iia
    assert report["das"]["steps_used"] == found.steps_used
    assert report["das"]["converged"] == found.converged
