"""Process settings every entry point applies first (CLI, app, benchmarks, tests, sweep and
study workers): `configure()`.

* One intra-op thread (`explorer.core.rng.fix_threads`): bit-identical numbers on any
  machine, and no spinning OpenMP threads when processes share a 2-core host.
* A fixed glibc mmap threshold. glibc raises its threshold to the size of each large block
  freed, after which blocks of that size come from the heap; the neuron-wise search's
  chunks (a few MB each, allocated and freed thousands of times) then grew the heap to
  +350 MB (measured: one default run's peak 824 MB with glibc's dynamic threshold, 420 MB
  with it fixed at 128 KiB; torch alone is 287 MB). With the threshold fixed, every block
  of 128 KiB or more is its own mapping and goes back to the system when freed. Arithmetic
  is unchanged: torch aligns its CPU tensors itself either way.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from explorer.core.rng import fix_threads

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed


def fix_allocator() -> bool:
    """Fix glibc's mmap threshold; False where the C library is not glibc (nothing to do)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def configure() -> None:
    fix_threads()
    fix_allocator()
