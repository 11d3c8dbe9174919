"""Giving a chunk's working memory back once it is made, so a warm daemon's
RSS is what the model needs between chunks, not what its longest chunk needed.

onnxruntime's CPU arena keeps every block it ever grew to for good; shrunk at
the end of each run, it frees them. glibc then keeps freed blocks below its
adaptive mmap threshold (which rises to 32 MiB as blocks are freed) inside its
heaps, in pieces the next chunk cannot reuse whole: with the shrinking alone,
kk-speakd's RSS rose higher than without it. A fixed threshold gives each large
block a mapping of its own, unmapped when freed. kk-speakd side by side over 200
mixed requests (bench/README.md): RSS 401-404 MiB, as against 493-532 without
either (470-522 with the shrinking alone, over 100); the audio is the same, bit
for bit, and 0.6 % slower.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 1 << 20  # bytes: the model's tensors are larger, Python's objects smaller


def shrinking_run_options():
    """onnxruntime RunOptions that free the arena's unused blocks after each run;
    None where the allocator cannot be told to unmap them (not glibc): shrinking
    alone raised the RSS on glibc, and was not measured elsewhere."""
    if not _fix_mmap_threshold():
        return None
    import onnxruntime as ort

    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def _fix_mmap_threshold() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    except (OSError, AttributeError):  # no mallopt: not glibc
        return False
