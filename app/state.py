"""What the app has computed, keyed by configuration, shared by all sessions and bounded.

Models, neuron-wise searches and alignment runs live in small LRU stores held by
`st.cache_resource`; computing them happens only when a button asks (`train`,
`run_neuron`, `run_alignment`), never as a side effect of drawing a page. Looking a config
up (`find_model`, ...) never computes. Tables derived from them are `st.cache_data`.

Model sources: today a model comes from training in the app. A shipped checkpoint (issue 5)
is another source: `find_model` is the one place that would look it up.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass

import pandas as pd
import streamlit as st

from explorer import analysis, pipeline, search, swaps
from explorer.config import RunConfig
from explorer.das import DASResult
from explorer.iia import IIA, SiteData
from explorer.models import MLP
from explorer.search import NeuronResult
from explorer.train import accuracy_table, heldout_examples, train_model

MODELS, NEURON, ALIGNMENT = 8, 16, 8  # entries per store; an alignment run is < 40 MB even
# at the app's largest budget (20,000 test pairs x 3 states x 128 units)
TRAINED_HERE = "trained in this app"


class LRUStore:
    """A thread-safe dict that forgets its least recently used entries."""

    def __init__(self, max_entries: int):
        self.max_entries, self._items, self._lock = max_entries, OrderedDict(), threading.Lock()

    def get(self, key: str):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: str, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


@st.cache_resource
def stores() -> dict[str, LRUStore]:
    return {"models": LRUStore(MODELS), "neuron": LRUStore(NEURON),
            "alignment": LRUStore(ALIGNMENT)}


@dataclass(frozen=True)
class TrainedModel:
    config: RunConfig
    model: MLP
    history: pd.DataFrame | None  # None for a model that did not come with its history
    accuracy: pd.DataFrame  # pattern, accuracy, n (held out)
    source: str
    seconds: float

    @property
    def task_accuracy(self) -> float:
        return float(self.accuracy.loc[self.accuracy.pattern == "all", "accuracy"].iloc[0])


@dataclass(frozen=True)
class AlignmentRun:
    das: DASResult
    neuron: NeuronResult
    controls: dict[str, IIA]
    test: SiteData  # the held-out pairs every IIA above was scored on
    seconds: float


def model_flat(cfg: RunConfig) -> dict:
    """The fields a trained model depends on."""
    return {**asdict(cfg.task), **asdict(cfg.model), **asdict(cfg.train), "seed": cfg.seed}


def model_key(cfg: RunConfig) -> str:
    return json.dumps(model_flat(cfg), sort_keys=True)


def run_key(cfg: RunConfig) -> str:
    return json.dumps(cfg.to_flat(), sort_keys=True)


def find_model(cfg: RunConfig) -> TrainedModel | None:
    return stores()["models"].get(model_key(cfg))


def find_neuron(cfg: RunConfig) -> NeuronResult | None:
    return stores()["neuron"].get(run_key(cfg))


def find_alignment(cfg: RunConfig) -> AlignmentRun | None:
    return stores()["alignment"].get(run_key(cfg))


def train(cfg: RunConfig, progress=None) -> TrainedModel:
    start = time.perf_counter()
    model, history = train_model(cfg, progress)
    accuracy = accuracy_table(model, heldout_examples(cfg))
    entry = TrainedModel(cfg, model, history, accuracy, TRAINED_HERE,
                         round(time.perf_counter() - start, 2))
    stores()["models"].put(model_key(cfg), entry)
    return entry


def run_neuron(entry: TrainedModel, cfg: RunConfig) -> NeuronResult:
    result = pipeline.run_neuron(entry.model, cfg, pipeline.pair_set(entry.model, cfg))
    stores()["neuron"].put(run_key(cfg), result)
    return result


def run_alignment(entry: TrainedModel, cfg: RunConfig, progress=None) -> AlignmentRun:
    """Neuron-wise search (reused if done), DAS and every control, on the same test pairs."""
    start = time.perf_counter()
    found = pipeline.align(entry.model, cfg, progress, neuron=find_neuron(cfg))
    stores()["neuron"].put(run_key(cfg), found.neuron)
    run = AlignmentRun(found.das, found.neuron, found.controls, found.pairs.test,
                       round(time.perf_counter() - start, 2))
    stores()["alignment"].put(run_key(cfg), run)
    return run


@st.cache_data(max_entries=16, show_spinner="Computing PCA and probes…")
def geometry_tables(key: str, _entry: TrainedModel) -> tuple[pd.DataFrame, ...]:
    """PCA points (600 held-out examples), explained variance, probes (2,000 examples)."""
    cfg, model = _entry.config, _entry.model
    points = heldout_examples(cfg, 600)
    probes = heldout_examples(cfg, 2000)
    return (analysis.pca_frame(model, points), analysis.explained_variance_frame(model, points),
            analysis.probe_frame(model, probes, cfg.seed))


@st.cache_data(max_entries=16, show_spinner="Scoring single units at every site…")
def unit_scores(key: str, _entry: TrainedModel, _cfg: RunConfig) -> pd.DataFrame:
    """Single-unit swap IIA at every site: site, variable, neuron, iia."""
    frames = [search.single_unit_scores(_entry.model, pipeline.pair_set(
        _entry.model, _cfg, layer=site).search).assign(site=site)
        for site in range(_entry.model.n_sites)]
    return pd.concat(frames, ignore_index=True)


@st.cache_data(max_entries=16)
def rotated_points(key: str, _entry: TrainedModel, _run: AlignmentRun,
                   variables: tuple[str, ...]) -> pd.DataFrame:
    das, cfg = _run.das, _entry.config
    return analysis.rotated_pca_frame(_entry.model, heldout_examples(cfg, 600), _run.test.site,
                                      das.rotation, das.var_mask, variables)


@st.cache_data(max_entries=16)
def test_outcomes(key: str, _entry: TrainedModel, _run: AlignmentRun) -> pd.DataFrame:
    """Per-pair outcomes of every alignment on the held-out test pairs."""
    n_vars, d = _run.test.source_h.shape[1:]
    aligns = swaps.alignments(_run.das, _run.neuron, n_vars, d)
    return swaps.swap_outcomes(_entry.model, _run.test, aligns)
