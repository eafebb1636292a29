"""Files on disk: paths, CSV tables, checkpoints, the shipped models and precomputed results. Imports only core."""
