"""What the app has computed, keyed by configuration, shared by all sessions and bounded.

Models, neuron-wise searches and alignment runs live in small LRU stores held by
`st.cache_resource`; computing them happens only when a button asks, never as a side effect
of drawing a page. The work (`trainer`, `neuron_searcher`, `aligner`) is built in the script
run and may run in any thread: `app.jobs` runs it as a background job, and it stores its
result when it finishes (`train`, `run_neuron`, `run_alignment` run it in the caller's
thread). Looking a config up (`find_model`, ...) never computes. Tables derived from them
are `st.cache_data`, keyed by value: a model's table by `model_id(entry)` (its
`core.identity.model_key` and its origin: shipped, trained here, or an upload's digest), a
run's by its config and that id (`run_id`), both derived here from the objects themselves,
so no caller builds a key and no two models or configs share an entry.

Trained models are held per session (`ModelStore`): a model a session trained or is using
(its `SESSION_MODELS` most recent) is never evicted while that session lives; only models
no live session holds are forgotten, least recently used first, beyond `MODELS`. So the
store holds at most MODELS + SESSION_MODELS x live sessions models (each under 1 MB at
the app's largest width). A model this session had to let go of (it used more than
SESSION_MODELS since) and that was then evicted is reported (`dropped_message`). Alignment
runs are held the same way, SESSION_RUNS per session.

Model sources, in the order `find_model` (the one place that looks them up) tries them:
a checkpoint uploaded in this session, or a planted network it chose (kept in that session
only: their weights are not the recipe's, so they never answer another session's lookup and
their results are keyed apart), a model trained in the app, a shipped checkpoint from
pretrained/ (the same deterministic recipe, so the same model a user would train).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app import session
from app.session import MODELS_HELD, RUNS_HELD, UPLOADS
from explorer.analysis import geometry as analysis, swaps

from explorer.store import checkpoints, shipped

from explorer.methods import experiment as pipeline, search, steps
from explorer.core.config import RunConfig
from explorer.core.identity import model_fields, model_key as identity_key
from explorer.core.pairs import pair_set
from explorer.methods.das import DASResult, publisher
from explorer.core.iia import SiteData
from explorer.methods.controls import Controls
from explorer.core.models import MLP
from explorer.methods.search import NeuronResult
from explorer.core.train import accuracy_table, heldout_examples, train_model

MODELS, NEURON, ALIGNMENT = 8, 16, 8  # entries per store; an alignment run is < 40 MB even
# at the app's largest budget (20,000 test pairs x 3 states x 128 units)
PROBES = 32  # probe tables (16 rows each)
SESSION_MODELS = 4  # models each live session keeps from eviction (its most recent)
SESSION_RUNS = 2  # likewise, alignment runs (ten sessions running DAS at once keep theirs)
TRAINED_HERE, SHIPPED, UPLOADED = "trained in this app", "shipped checkpoint", "uploaded"
PLANTED = "planted"  # the source of a planted network the session chose (kept as an upload)
MAX_UPLOADS = 2  # uploaded (or planted) models each session keeps


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


class SessionModels:
    """One session's hold on shared models: the keys it trained or used (most recent last)
    and the keys it let go of. Lives in the session's state: when the session ends, the
    store's weak references to it vanish, and so do its holds."""

    __slots__ = ("keys", "released", "__weakref__")

    def __init__(self):
        self.keys: OrderedDict[str, None] = OrderedDict()
        self.released: set[str] = set()


class ModelStore:
    """A thread-safe store of models shared by all sessions. Entries some live session holds
    are never evicted; the others go least recently used first beyond `max_entries`."""

    def __init__(self, max_entries: int, per_session: int):
        self.max_entries, self.per_session = max_entries, per_session
        self._items: OrderedDict[str, object] = OrderedDict()
        self._holders: dict[str, weakref.WeakSet] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, session: SessionModels | None = None):
        """The entry (None when absent); a session that finds it holds it from now on."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            if session is not None:
                self._hold(key, session)
            return self._items[key]

    def put(self, key: str, value, session: SessionModels | None = None) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if session is not None:
                self._hold(key, session)
            self._evict()

    def lost(self, key: str, session: SessionModels) -> bool:
        """Whether this session once held `key` and it has been evicted since."""
        with self._lock:
            return key in session.released and key not in self._items

    def _hold(self, key: str, session: SessionModels) -> None:
        session.keys[key] = None
        session.keys.move_to_end(key)
        session.released.discard(key)
        self._holders.setdefault(key, weakref.WeakSet()).add(session)
        while len(session.keys) > self.per_session:
            old, _ = session.keys.popitem(last=False)
            self._holders.get(old, weakref.WeakSet()).discard(session)
            session.released.add(old)
        self._evict()

    def _evict(self) -> None:
        for key in list(self._items):  # least recently used first
            if len(self._items) <= self.max_entries:
                return
            if not self._holders.get(key):
                del self._items[key]
                self._holders.pop(key, None)


@st.cache_resource
def stores() -> dict:
    return {"models": ModelStore(MODELS, SESSION_MODELS), "neuron": LRUStore(NEURON),
            "alignment": ModelStore(ALIGNMENT, SESSION_RUNS), "probes": LRUStore(PROBES)}


def _session(key: str = MODELS_HELD) -> SessionModels:
    """This session's hold on shared models (or, with RUNS_HELD, alignment runs)."""
    if key not in st.session_state:
        st.session_state[key] = SessionModels()
    return st.session_state[key]


@dataclass(frozen=True)
class TrainedModel:
    config: RunConfig
    model: MLP
    history: pd.DataFrame | None  # None for a model that did not come with its history
    accuracy: pd.DataFrame  # pattern, accuracy, n (held out)
    source: str
    seconds: float
    origin: str = ""  # "" for the recipe's model (trained or shipped); else the upload's digest

    @property
    def task_accuracy(self) -> float:
        return float(self.accuracy.loc[self.accuracy.pattern == "all", "accuracy"].iloc[0])


@dataclass(frozen=True)
class AlignmentRun:
    das: DASResult
    neuron: NeuronResult
    controls: Controls
    test: SiteData  # the held-out pairs every IIA above was scored on
    seconds: float
    config: RunConfig  # the config it ran
    model_id: tuple[str, str]  # model_id() of the model it ran on


def model_id(entry: TrainedModel) -> tuple[str, str]:
    """The one key of a model in the cached tables: the identity of the model its config
    trains and where this one came from (an upload by its digest: other weights)."""
    return identity_key(entry.config), f"upload {entry.origin}" if entry.origin else entry.source


def run_id(entry: TrainedModel, run: AlignmentRun) -> tuple[RunConfig, tuple[str, str]]:
    """The key of a run's tables: its config and its model's id. Raises ValueError when the
    run was not computed on this model (its tables would mix the two)."""
    if run.model_id != model_id(entry):
        raise ValueError(f"the run was computed on model {run.model_id}, not {model_id(entry)}")
    return run.config, run.model_id


def model_flat(cfg: RunConfig) -> dict:
    """The fields a trained model depends on."""
    return model_fields(cfg)


def recipe_key(cfg: RunConfig) -> str:
    """The key of the model the recipe trains for cfg."""
    return json.dumps(model_flat(cfg), sort_keys=True)


def _upload(cfg: RunConfig) -> TrainedModel | None:
    return session.uploads().get(recipe_key(cfg))


def _origin_suffix(cfg: RunConfig) -> str:
    upload = _upload(cfg)
    return "" if upload is None else f"#upload-{upload.origin}"


def model_key(cfg: RunConfig) -> str:
    """The key of the model this session uses for cfg (an upload is keyed apart)."""
    return recipe_key(cfg) + _origin_suffix(cfg)


def run_key(cfg: RunConfig) -> str:
    return json.dumps(cfg.to_flat(), sort_keys=True) + _origin_suffix(cfg)


def find_model(cfg: RunConfig) -> TrainedModel | None:
    return (_upload(cfg) or stores()["models"].get(recipe_key(cfg), _session())
            or shipped_model(cfg))


def dropped_message(cfg: RunConfig) -> str | None:
    """What to tell a session whose model for cfg had to go (None when it did not)."""
    if not stores()["models"].lost(recipe_key(cfg), _session()):
        return None
    return ("The model trained for this configuration earlier in this session is no longer "
            f"in memory: a session keeps its {SESSION_MODELS} most recently used models, "
            "and this one was older while the shared store was full. Press **Train** in "
            "the sidebar to train it again (the same seed gives the same model).")


def shipped_model(cfg: RunConfig) -> TrainedModel | None:
    item = shipped.find(cfg)
    return None if item is None else _load_shipped(str(item.path))


@st.cache_resource(max_entries=64, show_spinner="Loading the shipped model…")
def _load_shipped(path: str) -> TrainedModel | None:
    """A shipped checkpoint with its held-out accuracy table (None if it fails to load)."""
    start = time.perf_counter()
    try:
        model, cfg, _ = checkpoints.load(path)
    except (OSError, checkpoints.CheckpointError):
        return None
    accuracy = accuracy_table(model, heldout_examples(cfg))
    return TrainedModel(cfg, model, None, accuracy, SHIPPED, round(time.perf_counter() - start, 2))


def accept_upload(name: str, data: bytes, check=None, source: str = UPLOADED) -> TrainedModel:
    """Validate an uploaded checkpoint and keep it for this session, replacing the model for
    its config; its source reads "<source> <name>" (UPLOADED, or PLANTED for a planted
    network). `check(cfg)` may raise CheckpointError for configs the app cannot show.
    Raises CheckpointError (with a message naming the problem) and changes nothing then."""
    start = time.perf_counter()
    if not name.lower().endswith(".safetensors"):
        raise checkpoints.CheckpointError("only .safetensors files are accepted")
    model, cfg, _ = checkpoints.from_bytes(data)
    if check is not None:
        check(cfg)
    digest = hashlib.blake2b(data, digest_size=6).hexdigest()
    accuracy = accuracy_table(model, heldout_examples(cfg))
    entry = TrainedModel(cfg, model, None, accuracy, f"{source} {name}",
                         round(time.perf_counter() - start, 2), origin=digest)
    uploads = dict(session.uploads())
    uploads.pop(recipe_key(cfg), None)
    uploads[recipe_key(cfg)] = entry
    st.session_state[UPLOADS] = dict(list(uploads.items())[-MAX_UPLOADS:])
    return entry


def find_neuron(cfg: RunConfig) -> NeuronResult | None:
    return stores()["neuron"].get(run_key(cfg))


def find_alignment(cfg: RunConfig) -> AlignmentRun | None:
    return stores()["alignment"].get(run_key(cfg), _session(RUNS_HELD))


def trainer(cfg: RunConfig):
    """Training for cfg as work any thread may run (a background job): the store and this
    session's hold are looked up now, in the script run; the finished model is stored and
    held for this session. Returns work(progress=None, on_log=None) -> TrainedModel."""
    models, key, session = stores()["models"], recipe_key(cfg), _session()

    def work(progress=None, on_log=None) -> TrainedModel:
        start = time.perf_counter()
        model, history = train_model(cfg, progress, on_log=on_log)
        accuracy = accuracy_table(model, heldout_examples(cfg))
        entry = TrainedModel(cfg, model, history, accuracy, TRAINED_HERE,
                             round(time.perf_counter() - start, 2))
        models.put(key, entry, session)
        return entry
    return work


def train(cfg: RunConfig, progress=None) -> TrainedModel:
    return trainer(cfg)(progress)


def neuron_searcher(entry: TrainedModel, cfg: RunConfig):
    """The neuron-wise search for cfg as work any thread may run; stored when it finishes."""
    found, key = stores()["neuron"], run_key(cfg)

    def work(progress=None) -> NeuronResult:
        result = steps.run_neuron(entry.model, cfg, pair_set(entry.model, cfg))
        found.put(key, result)
        return result
    return work


def run_neuron(entry: TrainedModel, cfg: RunConfig) -> NeuronResult:
    return neuron_searcher(entry, cfg)()


def aligner(entry: TrainedModel, cfg: RunConfig):
    """Neuron-wise search (reused if done), DAS and every control, on the same test pairs,
    as work any thread may run (`publish`, if given, receives DAS's history rows and its
    leading map as they are logged: `das.publisher`); both results are stored when it
    finishes."""
    neuron_store, runs, key = stores()["neuron"], stores()["alignment"], run_key(cfg)
    neuron, session = neuron_store.get(key), _session(RUNS_HELD)

    def work(progress=None, publish=None) -> AlignmentRun:
        start = time.perf_counter()
        found = pipeline.align(entry.model, cfg, progress, neuron=neuron,
                               on_log=publisher(publish) if publish else None)
        neuron_store.put(key, found.neuron)
        run = AlignmentRun(found.das, found.neuron, found.controls, found.pairs.test,
                           round(time.perf_counter() - start, 2), cfg, model_id(entry))
        runs.put(key, run, session)
        return run
    return work


def run_alignment(entry: TrainedModel, cfg: RunConfig, progress=None) -> AlignmentRun:
    return aligner(entry, cfg)(progress)


def geometry_tables(entry: TrainedModel) -> tuple[pd.DataFrame, ...]:
    """PCA points and explained variance (600 held-out examples): fast, drawn at once."""
    return _geometry_tables(model_id(entry), entry)


@st.cache_data(max_entries=16, show_spinner="Computing PCA…")
def _geometry_tables(key: tuple[str, str], _entry: TrainedModel) -> tuple[pd.DataFrame, ...]:
    points = heldout_examples(_entry.config, 600)
    return (analysis.pca_frame(_entry.model, points),
            analysis.explained_variance_frame(_entry.model, points))


def find_probes(cfg: RunConfig) -> pd.DataFrame | None:
    return stores()["probes"].get(model_key(cfg))


def prober(entry: TrainedModel, cfg: RunConfig):
    """Linear probes (2,000 held-out examples; 6 logistic regressions per site and variable:
    seconds, tens of seconds at width 128) as work any thread may run; stored when done."""
    found, key = stores()["probes"], model_key(cfg)

    def work(progress=None) -> pd.DataFrame:
        frame = analysis.probe_frame(entry.model, heldout_examples(entry.config, 2000),
                                     entry.config.seed)
        found.put(key, frame)
        return frame
    return work


def unit_scores(entry: TrainedModel, cfg: RunConfig) -> pd.DataFrame:
    """Single-unit swap IIA at every site (cfg's search pairs): site, variable, neuron, iia."""
    return _unit_scores(cfg, model_id(entry), entry)


@st.cache_data(max_entries=16, show_spinner="Scoring single units at every site…")
def _unit_scores(cfg: RunConfig, key: tuple[str, str], _entry: TrainedModel) -> pd.DataFrame:
    frames = [search.single_unit_scores(_entry.model, pair_set(
        _entry.model, cfg, site=site).search).assign(site=site)
        for site in range(_entry.model.n_sites)]
    return pd.concat(frames, ignore_index=True)


def rotated_points(entry: TrainedModel, run: AlignmentRun,
                   variables: tuple[str, ...]) -> pd.DataFrame:
    """PCA of the run's rotated coordinates per variable block (600 held-out examples)."""
    return _rotated_points(run_id(entry, run), variables, entry, run)


@st.cache_data(max_entries=16)
def _rotated_points(key: tuple, variables: tuple[str, ...], _entry: TrainedModel,
                    _run: AlignmentRun) -> pd.DataFrame:
    das, cfg = _run.das, _entry.config
    return analysis.rotated_pca_frame(_entry.model, heldout_examples(cfg, 600), _run.test.site,
                                      das.map, das.var_mask, variables)


def test_outcomes(entry: TrainedModel, run: AlignmentRun) -> pd.DataFrame:
    """Per-pair outcomes of every alignment on the run's held-out test pairs."""
    return _test_outcomes(run_id(entry, run), entry, run)


@st.cache_data(max_entries=16)
def _test_outcomes(key: tuple, _entry: TrainedModel, _run: AlignmentRun) -> pd.DataFrame:
    n_vars, d = _run.test.source_h.shape[1:]
    aligns = swaps.alignments(_run.das, _run.neuron, n_vars, d)
    return swaps.swap_outcomes(_entry.model, _run.test, aligns)
