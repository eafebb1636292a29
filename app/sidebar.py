"""The sidebar: where the model comes from (shipped, uploaded, trained), every config
widget, and the Train button with the model's status."""

from __future__ import annotations

import streamlit as st

from app import jobs, model_source, params, session, stores as state, widgets
from app.widgets import ALIGNMENT, NETWORK, SEARCH_BUDGET, TRAINING
from explorer.core.config import ConfigError, RunConfig
from explorer.core.train import recipe_for


def config_ui():
    """Draw the config widgets. Returns the config they describe (or the last valid one and
    the error naming the bad field) and the slot, below the training settings, for Train."""
    bar = st.sidebar
    bar.header("Model")
    model_source.selector_ui(bar)
    model_source.upload_ui(bar)
    bar.header("Network")
    values = widgets.group_ui(NETWORK, bar)
    values |= widgets.group_ui(TRAINING, bar.expander("Task and training budget"))
    train_slot = bar.container()
    bar.header("Alignment")
    site_bound = {"site": values["layers"]}
    values |= widgets.group_ui(ALIGNMENT[:2], bar, site_bound)
    values |= widgets.group_ui(ALIGNMENT[2:], bar, {"k": widgets.max_k(values)})
    values |= map_width_ui(values["map"], bar)
    values |= widgets.group_ui(SEARCH_BUDGET, bar.expander("Search budget"))
    return (*params.current_config(values), train_slot)


def map_width_ui(family: str, bar) -> dict:
    """The RevNet width widget, drawn only for the revnet map; otherwise the width kept
    (so switching back to revnet, and the link, keep it)."""
    ss, name = st.session_state, widgets.MAP_WIDTH.name
    kept = ss.get(session.KEPT_WIDTH, ss.get(name, params.DEFAULTS[name]))  # Streamlit forgets the
    if family == "revnet":  # value of a widget it did not draw, so a copy is kept aside
        ss.setdefault(name, kept)
        ss[session.KEPT_WIDTH] = widgets.group_ui((widgets.MAP_WIDTH,), bar)[name]
    else:
        ss[session.KEPT_WIDTH] = kept
    return {name: ss[session.KEPT_WIDTH]}


def train_ui(cfg: RunConfig, error: ConfigError | None, bar) -> state.TrainedModel | None:
    """The Train button and the status of the model for this config (drawn into `bar`).
    Training is a background job (app.jobs): the button starts it, the panel below it shows
    its progress with Cancel, and the page reruns with the model when it is done."""
    entry = state.find_model(cfg)  # with an error, cfg is the last valid config
    recipe = recipe_for(cfg)
    shipped = entry is not None and entry.source == state.SHIPPED
    key = jobs.train_key(cfg)
    running = error is None and jobs.active(key)
    label = "Training…" if running else "Train your own" if shipped else "Train"
    pressed = bar.button(label, key="train_button",
                         type="secondary" if shipped else "primary", width="stretch",
                         disabled=error is not None or running
                         or (entry is not None and not shipped),
                         help=f"{recipe.steps} steps at lr {recipe.lr:g}, in the background "
                              "(disabled once this configuration is trained; a shipped model "
                              "can be retrained here to watch its curves)")
    if pressed and jobs.start_training(cfg) is not None:
        st.rerun()  # redraw with the button disabled and the live panel
    if error is None:
        with bar:
            jobs.live_ui(key, "Training", cancel_key="train_cancel")
    if entry is not None:
        st.session_state[session.LAST_MODEL] = state.model_flat(cfg)
        bar.success(f"Model ready ({entry.source}) · held-out accuracy "
                    f"{entry.task_accuracy:.3f} · {entry.seconds:.1f} s")
        if shipped and not running:
            bar.caption("Trained by `python -m explorer pretrain` with this recipe. To train "
                        "your own, change any setting above and press **Train**.")
    elif error is None and not running:
        bar.caption(f"Not trained yet: {recipe.steps} steps of {cfg.train.train_batch_size} "
                    f"at lr {recipe.lr:g}.")
    if error is None:
        jobs.elsewhere_ui(bar, {key, jobs.align_key(cfg), jobs.neuron_key(cfg)})
    return entry
