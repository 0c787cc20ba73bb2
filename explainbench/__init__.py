"""explainbench: benchmark models that explain recommendations in natural language."""

__version__ = "0.1.0"
