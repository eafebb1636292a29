"""explorer: train small MLPs on hierarchical equality and find, with interchange
interventions, where and in what form they hold the intermediate variables.

Modules, in reading order: config, rng, task, causal, models, train, interventions, iia,
das, search, controls, pipeline, checkpoints, cli.
"""
