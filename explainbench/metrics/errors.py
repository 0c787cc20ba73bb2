"""The one exception the metrics raise on bad input (the CLI prints it as one red line, exit code 2)."""

from __future__ import annotations


class MetricsError(ValueError):
    """Input the metrics cannot score: empty or misaligned lists, an empty feature set, unknown ids."""
