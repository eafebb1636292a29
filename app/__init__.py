"""The Streamlit UI of the alignment explorer (`streamlit run streamlit_app.py`).

    glance     header and precomputed overview, drawn before the heavy imports (cold start)
    params     config widgets <-> URL query parameters (one key and one parameter per field)
    sidebar    the config widgets and the Train button
    model_source  the shipped-models selector and the checkpoint upload
    precomputed   pretrained/results.csv for the current config (DAS page)
    state      bounded stores of models / searches / DAS runs keyed by config; cached tables
    common     shared UI pieces (progress, guards, notices)
    pages_*    one module per page: train, geometry, neuron, das, swaps, share
    exports    downloadable results, rotation and checkpoint

Only this package imports Streamlit; all math lives in `explorer`.
"""
