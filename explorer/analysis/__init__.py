"""Descriptive and diagnostic analyses: geometry (PCA, probes), subspaces, diagnostics, swaps. Imports methods and core."""
