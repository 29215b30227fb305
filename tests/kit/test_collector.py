"""The cycle collector is paused for a batch and always resumed, however blocks nest."""

from __future__ import annotations

import gc
import threading

import pytest

from borderpass.kit.collector import collection_paused


def test_paused_inside_and_resumed_after_nested_and_concurrent_blocks() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with collection_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with collection_paused():
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other block still runs
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_resumed_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("refused batch")
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
