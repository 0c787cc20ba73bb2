"""NRT (Li et al., SIGIR 2017) on the shared engine; see docs/models/nrt.md."""

from baselines.nrt.config import NRTConfig, tiny_config
from baselines.nrt.explainer import NRTExplainer
from baselines.nrt.model import NRTModule

__all__ = ["NRTConfig", "NRTExplainer", "NRTModule", "tiny_config"]
