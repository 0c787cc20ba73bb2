"""PETER (Li, Zhang and Chen, ACL 2021): a personalized Transformer for explainable recommendation."""
