"""The Streamlit UI of the alignment explorer (`streamlit run streamlit_app.py`), bottom
floor first: each module imports only modules listed before it (tests/test_layering.py).

    glossary      what IIA, site, k, map, restarts, hypothesis mean; 'How to read this'
    session       every st.session_state key, one line each (imports nothing from the app)
    params        the link: URL query parameters <-> config and view settings
    widgets       the config and view widgets (fields, ranges, labels) and how they are drawn
    figures       charts drawn from a Vega-Lite spec cached by value (built once per input)
    glance        header and precomputed overview, drawn before the heavy imports (cold start)
    stores        bounded stores of models / searches / DAS runs; tables cached by value
    nearest       the nearest precomputed configurations, with a button there
    jobs, live    background runs and their live panels
    common        shared UI pieces (progress, guards, notices, the Run DAS button)
    precomputed   pretrained/results.csv for the current config (DAS, Neuron-wise pages)
    dial          the complexity dial, hypothesis court and per-pair map (and button_job)
    spread        the seed spread of any configuration, on demand (seeds 0-4, batched)
    model_source  the shipped-models selector and the checkpoint upload
    planted       the Planted source: plant and recover (or the shipped grid's), then use it
    sidebar       the config widgets and the Train button
    exports       downloadable results, rotation and checkpoint
    findings      the Findings page
    compare       pin a configuration and show it beside the current one (DAS, Train)
    tour          the first-visit path through the four questions
    pages/        one module per page: train, geometry, neuron, das, swaps, share

Only this package imports Streamlit; all math lives in `explorer`.
"""
