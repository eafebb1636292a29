"""core.identity and config.upgrade: one versioned identity for models and measurements."""

import pytest

from explorer.core import identity
from explorer.core.config import ConfigError, RunConfig, upgrade
from explorer.core.identity import model_fields, model_key, point_key


def test_model_key_depends_on_training_inputs_only():
    base = model_key(RunConfig())
    same = [dict(site=0), dict(k=2), dict(hypothesis="left"), dict(das_steps=7),
            dict(eval_size=512), dict(n_test_pairs=64)]
    for values in same:
        assert model_key(RunConfig().with_values(**values)) == base, values
    for values in (dict(width=32), dict(seed=1), dict(activation="tanh"), dict(train_lr=0.1),
                   dict(train_steps=10), dict(entity_dim=3), dict(vocab_size=64)):
        assert model_key(RunConfig().with_values(**values)) != base, values


def test_point_key_depends_on_every_field_and_the_method():
    cfg = RunConfig()
    assert point_key(cfg, "das") != point_key(cfg, "neuron")
    for name, value in cfg.to_flat().items():
        changed = value + 1 if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else None
        if changed is None:
            continue
        assert point_key(cfg.with_values(**{name: changed}), "das") != point_key(cfg, "das"), name


def test_a_field_added_later_changes_no_key_at_its_default(monkeypatch):
    cfg = RunConfig()
    before_point, before_model = point_key(cfg, "das"), model_key(cfg)
    monkeypatch.setattr(identity, "ADDED", {"das_batch_size": 99, "train_batch_size": 99})
    assert point_key(cfg, "das") != before_point  # the field left the payload ...
    keyed = identity._keyed(cfg.to_flat(), cfg)
    assert "das_batch_size" not in keyed and "train_batch_size" not in keyed
    other = cfg.with_values(das_batch_size=128)
    assert "das_batch_size" in identity._keyed(other.to_flat(), other)  # ... unless non-default
    assert point_key(other, "das") != point_key(cfg, "das")
    assert model_key(cfg) != before_model


def test_old_names_are_upgraded_everywhere():
    assert upgrade({"layer": 2, "k": 4}) == {"site": 2, "k": 4}
    old = RunConfig.from_flat({"layer": "2"})
    assert old == RunConfig().with_values(site=2) == RunConfig().with_values(layer=2)
    assert point_key(old, "das") == point_key(RunConfig().with_values(site=2), "das")
    with pytest.raises(ConfigError) as err:
        upgrade({"layer": 1, "site": 2})
    assert err.value.field == "site"
    assert upgrade({"layer": 2, "site": 2}) == {"site": 2}


def test_model_fields_name_what_training_reads():
    fields = model_fields(RunConfig())
    assert "eval_size" not in fields and "site" not in fields
    assert set(fields) >= {"activation", "width", "layers", "seed", "train_steps"}
    assert identity.model_file_name(RunConfig()).startswith("relu-w16-l3-s0-")


def test_a_changed_recipe_changes_the_keys_of_the_configs_that_use_it(monkeypatch):
    """A config that leaves training to its activation's recipe trains something else once
    the recipe changes: its keys change with the recipe's version, and only theirs."""
    from explorer.core import recipes
    relu, sigmoid = RunConfig(), RunConfig().with_values(activation="sigmoid")
    typed = relu.with_values(train_steps=300, train_lr=0.02)  # no recipe in it
    before = {c: (model_key(c), point_key(c, "das")) for c in (relu, sigmoid, typed)}
    monkeypatch.setitem(recipes.RECIPES, "relu", recipes.Recipe(lr=0.5, steps=7,
                                                              version=recipes.RECIPES["relu"].version + 1))
    assert model_key(relu) != before[relu][0] and point_key(relu, "das") != before[relu][1]
    assert (model_key(sigmoid), point_key(sigmoid, "das")) == before[sigmoid]
    assert (model_key(typed), point_key(typed, "das")) == before[typed]
