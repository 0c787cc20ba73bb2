"""Run the BLAS libraries on one thread while the metrics aggregate.

The bootstrap's products are skinny (replicates x examples times examples x ~45 statistics). On a
shared 2-core machine, or in the two forked workers, a multi-threaded OpenBLAS spends its time
spinning: measured here 10-90x slower than one thread. threadpoolctl finds the BLAS libraries loaded
in this process (NumPy's bundled scipy-openblas, an MKL) and sets their thread count through their
C APIs; nothing happens where none is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Within the block, every loaded BLAS uses one thread; the previous counts are restored after."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
