"""An example explainbench plugin (see docs/plugins.md): one explainer, registered by entry point."""

from explainbench_plugin_example.template import FeatureTemplate, FeatureTemplateConfig

__all__ = ["FeatureTemplate", "FeatureTemplateConfig"]
