"""A restricted unpickler for the published PETER-format `reviews.pickle`.

A pickle is a program: loading an untrusted one can run any code. This loader admits only what
pickle builds from its own opcodes (lists, dicts, tuples, sets, strings, bytes, numbers, booleans,
None). Every global lookup (the route to functions, classes and hence to code) is refused, as are
persistent ids, so nothing in the file runs.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

from explainbench.data.errors import DataError


class _RefusedGlobal(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler that refuses every global (and every persistent id)."""

    def find_class(self, module: str, name: str):  # noqa: D401 - pickle's hook
        raise _RefusedGlobal(module, name)

    def persistent_load(self, pid):
        raise _RefusedGlobal("persistent_id", repr(pid)[:40])


def load_plain_pickle(path: Path) -> object:
    """Unpickle path admitting plain containers and scalars only; DataError otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(
            f"{path}: file not found; pass the folder that holds reviews.pickle and 1..5/"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror}); check the path and its permissions") from None
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="utf-8").load()
    except _RefusedGlobal as exc:
        raise DataError(
            f"{path}: refused to load: the pickle asks for {exc.module}.{exc.name}, i.e. it would run code; "
            "only plain lists, dicts, tuples, strings and numbers are accepted "
            "(re-create the file from plain data)"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: a string in the pickle is not UTF-8 ({exc.reason}); re-create the file as UTF-8"
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
    ) as exc:
        raise DataError(
            f"{path}: not a readable pickle ({type(exc).__name__}: {exc}); the file may be truncated"
        ) from None
