"""Ray backend for sweeps: the same chunks, run as Ray tasks on a cluster (or a local
instance). Ray is imported only here, only when asked for."""

from __future__ import annotations

from typing import Callable, Iterable


def execute_ray(fn: Callable, work: list, args: tuple,
                address: str | None) -> Iterable[list[dict]]:
    """Yield fn(chunk, *args) for each chunk as its task finishes. `address`: a cluster ('auto',
    'ray://host:10001') or None for a local instance. `args` are run_chunk's folders:
    they must be shared storage when workers run on several machines."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1)(fn)
        pending = [task.remote(chunk, *args) for chunk in work]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started_here:
            ray.shutdown()
