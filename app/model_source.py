"""Where the model comes from: the shipped-models selector and the checkpoint upload (and
`handle_upload`, which `app.planted` also calls to use a planted network).

Both set the network and training widgets (keyed by flat field names) to a model's config.
They do so in `on_change` callbacks, which Streamlit runs before the script: widget values
may be changed there, and the widgets are then drawn with them. A bad upload changes
nothing: its message names the problem and the model on screen stays.
"""

from __future__ import annotations

import streamlit as st

from app import session, stores as state, widgets
from app.session import SHIPPED_MODEL, UPLOAD_FILE, UPLOAD_NOTE
from explorer.store import shipped
from explorer.store.checkpoints import MAX_BYTES, CheckpointError
from explorer.core.config import RunConfig

CUSTOM = "— not a shipped model —"


def shipped_by_label() -> dict[str, shipped.ShippedModel]:
    return {item.label: item for item in shipped.catalog()}


def set_model_widgets(cfg: RunConfig) -> None:
    """Point the network and training widgets at cfg's model (call before they are drawn)."""
    for name, value in state.model_flat(cfg).items():
        st.session_state[name] = value


def _current_label(models: dict[str, shipped.ShippedModel]) -> str:
    """The shipped model the widgets describe now, or CUSTOM: also when this session uses an
    uploaded (or planted) model of that configuration, which the shipped one is not."""
    ss = st.session_state
    for label, item in models.items():
        if all(ss.get(name) == value for name, value in state.model_flat(item.config).items()):
            return CUSTOM if state.recipe_key(item.config) in session.uploads() else label
    return CUSTOM


def _apply_selection() -> None:
    """Point the widgets at the chosen shipped model; an upload of the same configuration
    stops being used (choosing the shipped model means the shipped model)."""
    ss = st.session_state
    item = shipped_by_label().get(ss[SHIPPED_MODEL])
    if item is not None:
        set_model_widgets(item.config)
        key = state.recipe_key(item.config)
        if key in session.uploads():
            ss[session.UPLOADS] = {k: v for k, v in session.uploads().items() if k != key}
            ss[UPLOAD_NOTE] = None


def selector_ui(container) -> None:
    """A selectbox of the shipped models; it follows the widgets (CUSTOM when none fits)."""
    models = shipped_by_label()
    if not models:
        container.caption("No shipped models in pretrained/ (run `python -m explorer "
                          "pretrain`); press **Train** to train one.")
        return
    st.session_state[SHIPPED_MODEL] = _current_label(models)  # before the widget is drawn
    container.selectbox("Shipped models", [CUSTOM, *models], key=SHIPPED_MODEL,
                        on_change=_apply_selection,
                        help="Checkpoints in pretrained/, trained by `python -m explorer "
                             "pretrain` with the app's recipe; choosing one sets the network "
                             "and training settings below. Any other setting: press Train.")


def check_app_ranges(cfg: RunConfig) -> None:
    """Raise CheckpointError when the checkpoint's config is outside the app's widget ranges
    (the widgets would clamp it, and the model would no longer match them)."""
    flat = cfg.to_flat()
    for field in (*widgets.NETWORK, *widgets.TRAINING):
        value = flat[field.name]
        if field.options or field.low <= value <= field.high:
            continue
        raise CheckpointError(f"{field.name} = {value} is outside the app's range "
                              f"{field.low}–{field.high}")


def handle_upload(name: str, data: bytes, source: str = state.UPLOADED) -> tuple[str, str]:
    """Validate and keep an uploaded checkpoint (or, source PLANTED, a planted network's);
    on success point the widgets at it (so call it from a callback). Returns (kind, message)
    with kind 'error' or 'success'. Never raises."""
    try:
        entry = state.accept_upload(name, data, check_app_ranges, source)
    except CheckpointError as err:
        return "error", f"**{name}** was not loaded: {err}. The current model is unchanged."
    except Exception as err:  # noqa: BLE001 - a bad file must never take the app down
        return "error", (f"**{name}** was not loaded: {type(err).__name__}: {err}. "
                         "The current model is unchanged.")
    set_model_widgets(entry.config)
    m = entry.config.model
    forget = " (remove the file to forget it)" if source == state.UPLOADED else ""
    return "success", (f"Loaded **{name}**: {m.layers} × {m.width} {m.activation}, seed "
                       f"{entry.config.seed}, held-out accuracy {entry.task_accuracy:.3f}. "
                       f"The settings now describe it; it is used in this session only"
                       f"{forget}.")


def _on_upload() -> None:
    """A new file is validated and kept; removing the file forgets this session's uploads."""
    ss = st.session_state
    file = ss.get(UPLOAD_FILE)
    if file is None:
        ss[UPLOAD_NOTE] = None
        ss.pop(session.UPLOADS, None)
        return
    ss[UPLOAD_NOTE] = handle_upload(file.name, file.getvalue())


def upload_ui(container) -> None:
    """The checkpoint uploader and the outcome of the last upload."""
    note = st.session_state.get(UPLOAD_NOTE)
    box = container.expander("Upload a checkpoint", expanded=note is not None)
    box.file_uploader(f"A .safetensors checkpoint (at most {MAX_BYTES // 2**20} MB), e.g. "
                      "one downloaded from the Share page or written by `python -m explorer "
                      "train`", type=["safetensors"], key=UPLOAD_FILE, on_change=_on_upload)
    if note is not None:
        kind, text = note
        (box.error if kind == "error" else box.success)(text)
