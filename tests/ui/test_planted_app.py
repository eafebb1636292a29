"""The Planted source in the sidebar: a network of the shipped planted grid shows its
recovery table at once (the rows of planted.csv), and "Use this planted network" makes a
planted network the model every page uses, as an upload is (source "planted": the weights
are the planted checkpoint's), from the grid or from a finished plant. A planted config
outside the app's ranges is refused with a message and the model stays. No test trains:
the grid is a fake one in tmp_path and plant_and_recover a stub (tests/planted_support)."""

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.app_driver import clear_caches, click, metric, open_app
from tests.planted_support import fake_grid, fake_result
from app import planted, session, stores
from explorer.core.config import RunConfig
from explorer.core.identity import MODEL_FIELDS
from explorer.core.train import accuracy_table, heldout_examples
from explorer.runs import planted_grid, planting
from explorer.store import checkpoints

COLUMNS = ["method", "iia", "used_angle_deg", "max_angle_deg", "found"]
USE = "plant_use_button"


@pytest.fixture(autouse=True)
def fresh_caches():
    clear_caches()  # the plant store and the grid table are shared by all sessions
    yield
    clear_caches()


@pytest.fixture
def stub_plant(monkeypatch):
    """plant_and_recover returns a hand-built result (values override its config); the
    results it returned are kept in the list."""
    made, values = [], {}

    def plant_and_recover(cfg, settings, progress=None, workers=2):
        made.append(fake_result(cfg, settings.form, **values))
        return made[-1]
    monkeypatch.setattr(planting, "plant_and_recover", plant_and_recover)
    return made, values


def plant_table(at: AppTest):
    return next(d.value for d in at.dataframe if "used_angle_deg" in d.value.columns)


def status(at: AppTest) -> list[str]:
    return [s.value for s in at.success if s.value.startswith("Model ready")]


def model_in_use(at: AppTest):
    """What find_model returns for the config the widgets describe (an upload comes first)."""
    cfg = RunConfig().with_values(**{name: at.session_state[name] for name in MODEL_FIELDS})
    return session.UPLOADS in at.session_state and \
        at.session_state[session.UPLOADS].get(stores.recipe_key(cfg))


def assert_weights(entry, model) -> None:
    mine, theirs = entry.model.state_dict(), model.state_dict()
    assert mine.keys() == theirs.keys()
    for name, tensor in theirs.items():
        assert torch.equal(mine[name], tensor), name


def test_a_grid_network_shows_its_csv_rows_and_becomes_the_model(monkeypatch, tmp_path):
    table, data = fake_grid(tmp_path)
    monkeypatch.setattr(planted_grid, "OUT", tmp_path)
    at = open_app({})  # the default network: relu 3x16 seed 0; rotated, site 1, k 4
    assert not at.exception, at.exception
    assert "plant_button" not in [b.key for b in at.button]  # nothing to compute
    rows = table[(table.activation == "relu") & (table.form == "rotated") & (table.seed == 0)
                 & (table.hypothesis == "both") & (table.curve == False)]  # noqa: E712
    shown = plant_table(at)
    assert len(shown) == len(rows) == 5
    for column in COLUMNS:
        assert shown[column].tolist() == rows[column].tolist(), column
    assert metric(at, "Task accuracy") == f"{rows.task_accuracy.iloc[0]:.3f}"
    assert metric(at, "Planted IIA") == f"{rows.planted_iia.iloc[0]:.3f}"

    at.button(key=USE).click().run()
    assert not at.exception, at.exception
    model, cfg, _ = checkpoints.from_bytes(data)
    assert status(at) and status(at)[0].startswith("Model ready (planted relu-rotated-s0")
    assert at.number_input(key="train_steps").value == cfg.train.train_steps == 800
    assert_weights(model_in_use(at), model)
    expected = accuracy_table(model, heldout_examples(cfg)).accuracy.iloc[0]
    assert metric(at, "Held-out task accuracy") == f"{expected:.3f}"  # the Train page's model
    assert at.button(key=USE).disabled  # in use; the table is still shown
    assert plant_table(at).iia.tolist() == rows.iia.tolist()


def test_a_finished_plant_becomes_the_model(monkeypatch, tmp_path, stub_plant):
    made, _ = stub_plant
    monkeypatch.setattr(planted_grid, "OUT", tmp_path)  # no grid: plant and recover
    at = open_app({})
    at.slider(key=session.PLANT_K).set_value(2).run()
    click(at, "plant_button")
    assert len(made) == 1
    result = made[0]
    assert result.config.das.k == 2 and result.config.train.train_lr == 6e-3
    shown = plant_table(at)
    assert shown.method.tolist() == list(result.recovery)
    assert shown.iia.tolist() == [r.iia for r in result.recovery.values()]
    assert shown.max_angle_deg.tolist() == [r.max_angle_deg for r in result.recovery.values()]
    assert metric(at, "Planted IIA") == f"{result.planted.iia:.3f}"

    at.button(key=USE).click().run()
    assert not at.exception, at.exception
    assert status(at)[0].startswith("Model ready (planted relu-w16-l3-rotated-site1-k2-s0")
    assert at.number_input(key="train_lr").value == pytest.approx(6e-3)
    assert_weights(model_in_use(at), result.model)
    assert any("Loaded" in s.value for s in at.success)
    assert at.button(key=USE).disabled and len(made) == 1  # the plant is kept, not redone


def test_a_planted_config_outside_the_apps_ranges_is_refused(monkeypatch, tmp_path, stub_plant):
    made, values = stub_plant
    values["train_steps"] = 60_000  # a valid config, beyond the app's 50,000-step widget
    monkeypatch.setattr(planted_grid, "OUT", tmp_path)
    at = open_app({})
    at.slider(key=session.PLANT_K).set_value(2).run()
    before, steps = status(at), at.number_input(key="train_steps").value
    click(at, "plant_button")
    at.button(key=USE).click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("train_steps = 60000 is outside the app's range" in e
               and "The current model is unchanged" in e for e in errors), errors
    assert status(at) == before and at.number_input(key="train_steps").value == steps
    assert not model_in_use(at)
    assert not at.button(key=USE).disabled


def test_the_key_survives_pointing_the_widgets_at_the_plant():
    cfg = RunConfig()
    written = planting.plant_config(cfg.with_values(site=1, k=4))
    assert planted.plant_key(cfg, "rotated", 1, 4) == planted.plant_key(written, "rotated", 1, 4)
    assert planted.plant_key(cfg, "rotated", 1, 4) != planted.plant_key(cfg, "localist", 1, 4)


def _param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def test_a_link_sets_the_plant_and_court_widgets_and_a_bad_one_is_reported():
    at = open_app({"plant_form": "localist", "plant_site": "2", "plant_k": "2",
                   "court_map": "linear", "page": "das"})
    assert not at.exception, at.exception
    assert at.selectbox(key=session.PLANT_FORM).value == "localist"
    assert at.slider(key=session.PLANT_SITE).value == 2
    assert at.slider(key=session.PLANT_K).value == 2
    assert at.selectbox(key=session.COURT_MAP).value == "linear"
    # the link written back holds them, so it reopens the same view
    assert [_param(at, n) for n in ("plant_form", "plant_site", "plant_k", "court_map")] == [
        "localist", "2", "2", "linear"]
    bad = open_app({"plant_form": "diagonal", "plant_k": "999"})
    text = " ".join(e.value for e in bad.error)
    assert "**plant_form**: must be one of rotated, localist" in text
    assert "**plant_k**: must be a whole number" in text
    assert bad.selectbox(key=session.PLANT_FORM).value == "rotated"


@pytest.mark.parametrize("width", ["2", "3"])
def test_a_network_too_narrow_for_a_k_slider_opens_with_k_1(width):
    at = open_app({"width": width})  # width // 2 = 1: the slider would have min = max
    assert not at.exception, at.exception
    assert [s for s in at.slider if s.key == session.PLANT_K] == []
    assert at.slider(key="width").value == int(width)
