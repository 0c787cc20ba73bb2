"""Att2Seq (Dong et al., EACL 2017) on the shared engine; see docs/models/att2seq.md."""

from baselines.att2seq.config import Att2SeqConfig, tiny_config
from baselines.att2seq.explainer import Att2SeqExplainer
from baselines.att2seq.model import Att2SeqModule

__all__ = ["Att2SeqConfig", "Att2SeqExplainer", "Att2SeqModule", "tiny_config"]
