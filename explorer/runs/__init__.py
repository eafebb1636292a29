"""Running many measurements: executors (local pool, Ray), the model cache, sweeps, pretrain. May import every layer below."""
