"""Pausing Python's cycle collector while a large batch is built in memory.

Reading a batch of hundreds of thousands of rows allocates millions of objects that all
survive until the batch is written. Each of the collector's full passes walks every one
of them while holding the interpreter lock, so the whole process (the event loop
answering other requests included) stalls for a tenth of a second or more, again and
again. Reference counting frees the batch when it is done; the cycle collector has
nothing to find in it. So it is paused for the batch and resumed after.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]

_lock = threading.Lock()
_paused = 0


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cycle collector for the block (nested and concurrent blocks allowed)."""
    global _paused
    with _lock:
        if _paused == 0 and gc.isenabled():
            gc.disable()
            _paused = 1
        elif _paused:
            _paused += 1
        else:  # the collector was off already: leave it so
            yield
            return
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0:
                gc.enable()
