"""Message-passing layers, one per file."""
from topoequi.nn.conv.gram_edge_conv import GramEdgeConv
from topoequi.nn.conv.implicit_steerable_conv import ImplicitSteerableConv
from topoequi.nn.conv.local_homology_sheaf_attention import LocalHomologySheafAttention
from topoequi.nn.conv.local_homology_sheaf_conv import LocalHomologySheafConv, SheafDiffusion
from topoequi.nn.conv.neural_sheaf_diffusion_conv import NeuralSheafDiffusionConv
from topoequi.nn.conv.steerable_conv import SteerableConv
from topoequi.nn.conv.steerable_message_passing import SteerableMessagePassing

__all__ = ["GramEdgeConv", "ImplicitSteerableConv", "LocalHomologySheafAttention", "LocalHomologySheafConv",
           "NeuralSheafDiffusionConv", "SheafDiffusion", "SteerableConv", "SteerableMessagePassing"]
