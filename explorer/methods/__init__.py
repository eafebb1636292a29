"""Alignment methods: the shared fitting loop, DAS, Boundless DAS, neuron-wise search, controls and the whole experiment. Imports only core."""
