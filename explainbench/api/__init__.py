"""The contracts: the Explainer interface, the plugin registry and the results schema."""

from explainbench.api.explainer import (
    ExplainContext,
    Explainer,
    ExplainerConfig,
    ExplainRequest,
    Explanation,
    NotReadyError,
    RequestError,
)

__all__ = [
    "ExplainContext",
    "Explainer",
    "ExplainerConfig",
    "ExplainRequest",
    "Explanation",
    "NotReadyError",
    "RequestError",
]
