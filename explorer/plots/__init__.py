"""Altair chart builders: DataFrame in, Chart out. Imports nothing else from the package."""
