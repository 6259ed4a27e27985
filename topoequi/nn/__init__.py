"""Layers: ``topoequi.nn.conv`` holds the message-passing layers, one per file."""
from topoequi.nn.conv import (
    LocalHomologySheafAttention,
    LocalHomologySheafConv,
    NeuralSheafDiffusionConv,
)

__all__ = ["LocalHomologySheafAttention", "LocalHomologySheafConv", "NeuralSheafDiffusionConv"]
