"""metrics/blas.py: OpenBLAS runs on one thread inside single_thread_blas and gets its count back after."""

from __future__ import annotations

import numpy  # noqa: F401 - loads NumPy's OpenBLAS, the library the block must limit
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from explainbench.metrics.blas import single_thread_blas


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_thread_blas_limits_and_restores():
    if not _blas_threads():
        pytest.skip("no BLAS library loaded in this process")
    with threadpool_limits(limits=2, user_api="blas"):
        assert set(_blas_threads()) == {2}
        with single_thread_blas():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {2}
