"""The app's cached tables (app/stores.py) are keyed by value: by the model's identity and
origin (`model_id`) and, for a run's tables, the run's config. Two models or configs that
differ in one field, or two uploads of one config, never share an entry (each table equals
its own direct computation), and the same ones do (the work runs once)."""

from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st

from app import stores
from app.stores import AlignmentRun, TrainedModel, model_id, run_id
from explorer.analysis import geometry
from explorer.core.config import tiny
from explorer.core.pairs import pair_set
from explorer.core.train import heldout_examples, new_model
from explorer.methods import search

CFG = tiny(width=8, layers=2, n_search_pairs=64)
ACCURACY = pd.DataFrame({"pattern": ["all"], "accuracy": [0.5], "n": [1]})


def entry(cfg=CFG, source=stores.TRAINED_HERE, origin="", stream="train-init") -> TrainedModel:
    model = new_model(cfg, stream).eval().requires_grad_(False)
    return TrainedModel(cfg, model, None, ACCURACY, source, 0.0, origin)


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def pca(e: TrainedModel) -> pd.DataFrame:
    return geometry.pca_frame(e.model, heldout_examples(e.config, 600))


def test_model_ids_tell_apart_every_origin_and_model_field():
    ids = {model_id(e) for e in (
        entry(), entry(source=stores.SHIPPED), entry(origin="aa", source="uploaded x"),
        entry(origin="bb", source="uploaded x"), entry(CFG.with_values(seed=1)),
        entry(CFG.with_values(train_lr=0.002)))}
    assert len(ids) == 6
    assert model_id(entry(CFG.with_values(k=1))) == model_id(entry())  # not a model field


def test_geometry_tables_of_two_models_never_share_an_entry():
    """Same config, two uploads (other weights); and two configs one field apart."""
    ones = [entry(origin="aa"), entry(origin="bb", stream="other-weights"),
            entry(CFG.with_values(seed=1))]
    for e in ones:
        pd.testing.assert_frame_equal(stores.geometry_tables(e)[0], pca(e))
    assert not stores.geometry_tables(ones[0])[0].equals(stores.geometry_tables(ones[1])[0])


def test_the_same_model_is_computed_once(monkeypatch):
    calls = []
    real = geometry.pca_frame
    monkeypatch.setattr(geometry, "pca_frame", lambda *a: calls.append(1) or real(*a))
    e = entry()
    stores.geometry_tables(e)
    stores.geometry_tables(entry())  # an equal model, built again: the same key
    assert len(calls) == 1
    stores.geometry_tables(entry(CFG.with_values(seed=2)))
    assert len(calls) == 2


def test_unit_scores_follow_the_config_not_only_the_model():
    """One model, two configs one search field apart: each table is its own config's."""
    e = entry()
    for cfg in (CFG, CFG.with_values(hypothesis="left"), CFG.with_values(n_search_pairs=128)):
        want = pd.concat([search.single_unit_scores(e.model, pair_set(e.model, cfg, site=s)
                                                    .search).assign(site=s)
                          for s in range(e.model.n_sites)], ignore_index=True)
        pd.testing.assert_frame_equal(stores.unit_scores(e, cfg), want)


def test_a_run_is_keyed_by_its_config_and_refuses_another_model():
    e = entry()
    run = AlignmentRun(None, None, None, None, 0.0, CFG, model_id(e))
    other = AlignmentRun(None, None, None, None, 0.0, CFG.with_values(k=1), model_id(e))
    assert run_id(e, run) != run_id(e, other)
    with pytest.raises(ValueError, match="not"):
        run_id(entry(origin="aa", source="uploaded x"), run)
