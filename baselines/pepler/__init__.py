"""PEPLER (Li, Zhang and Chen, "Personalized Prompt Learning for Explainable Recommendation", TOIS 2023)
on GPT-2 from transformers: continuous prompts (`pepler`, with reg.py's rating heads as `pepler-mf`
and `pepler-mlp`) and discrete prompts (`pepler-d`). See docs/models/pepler.md."""

from baselines.pepler.config import PeplerConfig, PeplerDConfig, PeplerMFConfig, PeplerMLPConfig
from baselines.pepler.explainer import Pepler, PeplerD, PeplerMF, PeplerMLP

__all__ = [
    "Pepler",
    "PeplerConfig",
    "PeplerD",
    "PeplerDConfig",
    "PeplerMF",
    "PeplerMFConfig",
    "PeplerMLP",
    "PeplerMLPConfig",
]
