"""What every Hugging Face Hub caller of explainbench asks the environment (the data importer, the
BERTScore metric, the PEPLER baselines), answered one way."""

from __future__ import annotations

import os


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE asks the Hub libraries to stay offline ("1", "true", "yes", "on")."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
