"""Issue 12, app: models held per session (a store policy test and 10 sessions at once
through AppTest), and malformed link parameters that are reported, never fatal."""

import ast
import gc
import threading

import pytest
import torch

from app import params
from app.stores import SESSION_MODELS, ModelStore, SessionModels
from explorer.core.task import PATTERNS
from tests.app_driver import click, ROOT, goto, open_app

TINY = dict(train_steps="20", train_batch_size="64", eval_size="64", das_steps="5",
            restarts="1", k="2", n_train_pairs="64", n_val_pairs="64", n_test_pairs="64",
            n_search_pairs="64")


# --- the store's policy -----------------------------------------------------------------

def test_models_a_live_session_holds_are_never_evicted():
    store = ModelStore(8, SESSION_MODELS)
    sessions = [SessionModels() for _ in range(10)]
    for i, session in enumerate(sessions):
        store.put(f"m{i}", i, session)
    assert [store.get(f"m{i}", s) for i, s in enumerate(sessions)] == list(range(10))
    del sessions[3:]  # seven sessions end
    gc.collect()
    store.put("fresh", -1)
    assert len(store) == 8
    assert [store.get(f"m{i}") for i in range(3)] == [0, 1, 2]  # still held


def test_a_session_keeps_its_most_recent_models_and_learns_of_a_lost_one():
    store, me, others = ModelStore(3, 2), SessionModels(), SessionModels()
    for key in ("a", "b", "c"):  # "a" is released: the session holds at most 2
        store.put(key, key, me)
    assert not store.lost("a", me) and store.get("a") == "a"  # released, still stored
    store.put("x", 1, others)
    store.put("y", 2, others)
    assert store.get("a") is None and store.lost("a", me)
    assert store.get("b", me) == "b" and store.get("c", me) == "c"
    store.put("a", "a", me)  # retrained: no longer lost
    assert not store.lost("a", me)


def test_the_store_is_consistent_under_threads():
    store = ModelStore(4, 2)
    sessions = [SessionModels() for _ in range(10)]
    barrier = threading.Barrier(10)

    def work(i):
        gen = torch.Generator().manual_seed(i)
        barrier.wait()
        for step in range(300):
            key = f"k{int(torch.randint(20, (1,), generator=gen))}"
            if store.get(key, sessions[i]) is None:
                store.put(key, key, sessions[i])
    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for session in sessions:
        assert all(store.get(key) == key for key in session.keys)
    assert len(store) <= 4 + 2 * 10


# --- ten sessions at once ---------------------------------------------------------------

def test_ten_sessions_training_at_once_all_keep_their_model():
    """The issue's scenario: 10 sessions train different models, all before any of them
    opens the DAS page. With 8 entries and plain LRU, two of them lost their model.
    (AppTest runs share globals, so the sessions interleave run by run here; the store's
    own thread safety is the test above.)"""
    sessions = [open_app({**TINY, "seed": str(500 + i)}) for i in range(10)]
    for at in sessions:
        click(at, "train_button")
        assert not at.exception and any("Model ready" in s.value for s in at.success)
    for i, at in enumerate(sessions):
        at.run()  # a rerun of every session after all have trained
        assert any("Model ready" in s.value for s in at.success), i
        goto(at, "das")
        assert not any("No trained model" in info.value for info in at.info), i
        assert not any("no longer in memory" in w.value for w in at.warning), i
        assert any(m.label == "Held-out task accuracy" for m in at.metric), i


# --- link parameters --------------------------------------------------------------------

BAD = ["--5", "²", "①", "---1", "nan", "inf", "-inf", "1e309", "", " ", "1_6", "١٦", "16.0",
       "-1", "9" * 5000, "true", "[]", "<b>x</b>", "**", "0x10", "null", "1e-400"]
ALL_NAMES = [*params.DEFAULTS, *params.VIEWS]


def _healthy(at) -> None:
    """No exception element, and the page is drawn: title, sidebar widgets, the page radio."""
    assert not at.exception, at.exception
    assert at.title and at.title[0].value == "Alignment explorer"
    assert at.radio(key="page").value in params.PAGE_NAMES
    assert at.slider(key="width") is not None and at.button(key="train_button") is not None
    assert all(len(e.value) < 4000 for e in at.error)


@pytest.mark.parametrize("value", ["--5", "²", "①", "---1", "-1", "99999999", "x"])
def test_a_bad_swap_draw_is_reported_and_replaced(value):
    at = open_app({"swap_draw": value, "page": "swaps"}, timeout=60)
    _healthy(at)
    assert any("**swap_draw**" in e.value and "between 0 and" in e.value for e in at.error)
    at.run()  # and the next run too
    _healthy(at)


@pytest.mark.parametrize("name, value", [("train_lr", "nan"), ("das_lr", "inf"),
                                         ("train_lr", "1e999")])
def test_non_finite_numbers_are_rejected(name, value):
    at = open_app({name: value}, timeout=60)
    _healthy(at)
    text = " ".join(e.value for e in at.error)
    assert f"**{name}**" in text and "finite" in text and "set to nan" not in text


def test_fuzzed_links_never_break_the_page():
    """Every config field and view parameter, each run with a malformed value drawn from
    BAD (seeded): no exception, the page drawn, every clearly invalid value named."""
    gen = torch.Generator().manual_seed(12)
    for run in range(6):
        picks = {name: BAD[int(torch.randint(len(BAD), (1,), generator=gen))]
                 for name in ALL_NAMES}
        if run % 2:  # every other run opens a page other than the default
            picks["page"] = params.PAGE_NAMES[run % len(params.PAGE_NAMES)]
        at = open_app(picks, timeout=60)
        _healthy(at)
        text = " ".join(e.value for e in at.error)
        for name, value in picks.items():
            if value in ("--5", "²", "①", "---1", "nan", "1_6", "١٦", "[]", "**"):
                assert f"**{name}**" in text, (name, value)
        at.run()
        _healthy(at)


def test_view_choices_match_the_app():
    assert params.PATTERN_CHOICES[1:] == PATTERNS
    from app.pages.geometry import COLOURS
    assert params.COLOURS == COLOURS
    tree = ast.parse((ROOT / "streamlit_app.py").read_text())
    pages = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", "") == "PAGES")
    assert tuple(key.value for key in pages.keys) == params.PAGE_NAMES
    for name, view in params.VIEWS.items():  # every declared value is accepted
        for value in view.options or ([str(view.low), str(view.high)] if view.low is not None
                                      else ["true", "false"]):
            params.coerce_view(view, value)


def test_ten_training_steps_in_the_app():
    at = open_app({**TINY, "train_steps": "10", "seed": "77"})
    click(at, "train_button")
    assert not at.exception and not at.error
    assert any("Model ready" in s.value for s in at.success)


def test_a_session_is_told_when_its_model_really_had_to_go():
    from app.stores import stores
    at = open_app({**TINY, "seed": "600"})
    for seed in range(600, 600 + SESSION_MODELS + 1):  # one model more than a session keeps
        at.number_input(key="seed").set_value(seed).run()
        click(at, "train_button")
        assert any("Model ready" in s.value for s in at.success)
    for i in range(12):  # other sessions' models fill the shared store
        stores()["models"].put(f"filler-{i}", None)
    at.number_input(key="seed").set_value(600).run()
    goto(at, "das")
    assert any("no longer in memory" in w.value and "Train" in w.value for w in at.warning)
    at.number_input(key="seed").set_value(600 + SESSION_MODELS).run()  # a held one: still there
    assert any(m.label == "Held-out task accuracy" for m in at.metric)
