"""The conformance suite for explainers: `check_explainer(MyExplainer)` (see docs/plugins.md)."""

from explainbench.testing.checks import CheckReport, check_explainer

__all__ = ["CheckReport", "check_explainer"]
