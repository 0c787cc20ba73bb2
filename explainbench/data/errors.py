"""The one exception of the data layer.

A DataError message is a single line that names the file (and line or record) at fault and says what
to do; the CLI prints it in red and exits with status 2.
"""

from __future__ import annotations


class DataError(Exception):
    """Bad input data or a dataset that cannot be found or built."""
