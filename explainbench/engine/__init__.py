"""The shared training and decoding engine for every neural explainer."""
