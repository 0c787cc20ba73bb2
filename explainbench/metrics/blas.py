"""Run NumPy's OpenBLAS on one thread while the metrics aggregate.

The bootstrap's products are skinny (replicates x examples times examples x ~45 statistics). On a
shared 2-core machine, or in the two forked workers, a multi-threaded OpenBLAS spends its time
spinning: measured here 10-90x slower than one thread. NumPy wheels bundle scipy-openblas; its
thread count is set through its C API (what threadpoolctl does), and nothing happens where no
OpenBLAS is found.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)
_API: tuple | None | bool = False  # False: not looked up yet; None: none found


def _loaded_openblas() -> list[str]:
    """Paths of OpenBLAS libraries mapped into this process (Linux); else NumPy's bundled ones."""
    paths: list[str] = []
    maps = Path("/proc/self/maps")
    if maps.is_file():
        for line in maps.read_text().splitlines():
            part = line.split()[-1] if line.split() else ""
            if "openblas" in part.lower() and part not in paths and part.startswith("/"):
                paths.append(part)
    if not paths:
        import numpy

        libs = Path(numpy.__file__).resolve().parent.parent / "numpy.libs"
        paths = [str(p) for p in sorted(libs.glob("*openblas*"))] if libs.is_dir() else []
    return paths


def _api() -> tuple | None:
    global _API
    if _API is False:
        _API = None
        for path in _loaded_openblas():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for setter, getter in _SYMBOLS:
                if hasattr(lib, setter) and hasattr(lib, getter):
                    _API = (getattr(lib, setter), getattr(lib, getter))
                    break
            if _API is not None:
                break
    return _API  # type: ignore[return-value]


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Within the block, OpenBLAS uses one thread; the previous count is restored after."""
    api = _api()
    if api is None:
        yield
        return
    setter, getter = api
    before = int(getter())
    setter(1)
    try:
        yield
    finally:
        setter(before)
