"""Message-passing layers, one per file."""
from topoequi.nn.conv.local_homology_sheaf_attention import LocalHomologySheafAttention
from topoequi.nn.conv.local_homology_sheaf_conv import LocalHomologySheafConv
from topoequi.nn.conv.neural_sheaf_diffusion_conv import NeuralSheafDiffusionConv

__all__ = ["LocalHomologySheafAttention", "LocalHomologySheafConv", "NeuralSheafDiffusionConv"]
