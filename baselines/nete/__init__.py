"""NETE (Li, Zhang and Chen, CIKM 2020) on the shared engine; see docs/models/nete.md."""

from baselines.nete.config import NETEConfig, tiny_config
from baselines.nete.explainer import NETEExplainer
from baselines.nete.model import GFRU, NETEModule

__all__ = ["GFRU", "NETEConfig", "NETEExplainer", "NETEModule", "tiny_config"]
