"""The memory settings: the collector is paused only inside the block, and comes back."""

from __future__ import annotations

import gc

import pytest

from pipeline.memory import collector_paused, keep_freed_memory


def test_collector_is_paused_inside_and_restored_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_keep_freed_memory_can_be_called_twice() -> None:
    keep_freed_memory()
    keep_freed_memory()  # idempotent; a no-op where glibc is absent
    assert bytearray(64 << 20)[-1] == 0  # large blocks still allocate
