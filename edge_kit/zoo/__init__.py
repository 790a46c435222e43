"""The built-in model zoo: Paddle implementations of the seed's models."""
from edge_kit.zoo.registry import ModelSpec, Preprocess, all_models, get_model

__all__ = ["ModelSpec", "Preprocess", "all_models", "get_model"]
