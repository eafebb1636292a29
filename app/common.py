"""Small UI pieces the pages share: progress bars, charts, guards and notices."""

from __future__ import annotations

import streamlit as st

from app import jobs, live, nearest, params, stores as state
from app.session import LAST_MODEL, LAST_RUN
from explorer.core.config import RunConfig

LEARNED = 0.95  # below this held-out accuracy, IIA says little about the network


def progress_bar(container, text: str):
    """A progress bar and the (frac, message) callback the engine reports to."""
    bar = container.progress(0.0, text=text)
    return bar, lambda frac, message: bar.progress(min(max(frac, 0.0), 1.0), text=message)


def chart(figure, stretch: bool = True) -> None:
    st.altair_chart(figure, width="stretch" if stretch else "content")


def attempt(what: str, fn, *args, **kwargs):
    """Run an engine call; on failure show an inline error instead of a traceback."""
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - the page must survive any engine failure
        st.error(f"{what} failed: {type(err).__name__}: {err}")
        return None


def require_model(cfg: RunConfig, entry: state.TrainedModel | None) -> bool:
    """True when a model matches the config; otherwise say why not and what to do."""
    if live.training_ui(cfg) or entry is not None:  # the live curves while it trains
        return entry is not None
    dropped = state.dropped_message(cfg)
    last = st.session_state.get(LAST_MODEL)
    if dropped:
        st.warning(dropped)
    elif last and last != state.model_flat(cfg):
        st.warning("The configuration changed since you trained "
                   f"({params.changed_fields(last, state.model_flat(cfg))}); the earlier "
                   "model's results are not shown. Press **Train** in the sidebar to train "
                   "this configuration (returning to the earlier one is instant).")
    else:
        st.info("No trained model for this configuration yet: press **Train** in the sidebar.")
    nearest.nearest_ui(cfg, "Press **Train** in the sidebar, then **Run DAS**, to compute it.")
    return False


def accuracy_banner(entry: state.TrainedModel) -> None:
    """Task accuracy first: interventions on a network that fails the task mean little."""
    acc = entry.task_accuracy
    st.metric("Held-out task accuracy", f"{acc:.3f}")
    if acc < LEARNED:
        st.warning(f"The network has not learned the task (held-out accuracy {acc:.3f} < "
                   f"{LEARNED}). Interchange intervention accuracy is meaningless on a "
                   "network that fails the task: train longer or change the recipe first.")


def run_alignment_ui(cfg: RunConfig, entry: state.TrainedModel, key: str,
                     label: str = "Run DAS") -> state.AlignmentRun | None:
    """The alignment run for this config: looked up, or started as a background job when
    the button is pressed (its live panel shows below the button until it is done)."""
    run = state.find_alignment(cfg)
    running = run is None and jobs.active(jobs.align_key(cfg))
    if st.button(label, key=key, type="primary", disabled=run is not None or running,
                 help="neuron-wise search, DAS with restarts, and every control, in the "
                      "background (disabled once computed for this configuration)"):
        if jobs.start_alignment(entry, cfg) is not None:
            st.rerun()
    if run is None:
        live.alignment_ui(cfg, key)
    if run is not None:
        st.session_state[LAST_RUN] = cfg.to_flat()
        return run
    last = st.session_state.get(LAST_RUN)
    same_model = last and state.model_flat(RunConfig.from_flat(last)) == state.model_flat(cfg)
    if not running and same_model:
        st.info(f"Alignment settings changed since the last run "
                f"({params.changed_fields(last, cfg.to_flat())}): press **{label}** to update.")
    return None
