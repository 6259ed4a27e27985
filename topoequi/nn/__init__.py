"""Layers: ``topoequi.nn.conv`` holds the message-passing layers, one per file."""
from topoequi.nn.batch_norm import EquivariantBatchNorm
from topoequi.nn.bilinear import EquivariantBilinear
from topoequi.nn.conv import (
    ImplicitSteerableConv,
    LocalHomologySheafAttention,
    LocalHomologySheafConv,
    NeuralSheafDiffusionConv,
    SteerableConv,
)
from topoequi.nn.fourier_nonlinearity import FourierNonlinearity
from topoequi.nn.gate import GatedNonlinearity, NormNonlinearity
from topoequi.nn.group_likelihood import GroupLikelihood, kl_divergence, likelihood_kl_chain
from topoequi.nn.isotypic_balance import IsotypicBalance
from topoequi.nn.linear import EquivariantLinear
from topoequi.nn.mlp import EquivariantMLP
from topoequi.nn.radial import GaussianRadialBasis

__all__ = [
    "EquivariantBatchNorm", "EquivariantBilinear", "EquivariantLinear", "EquivariantMLP", "FourierNonlinearity",
    "GatedNonlinearity", "GaussianRadialBasis", "GroupLikelihood", "ImplicitSteerableConv", "IsotypicBalance",
    "LocalHomologySheafAttention", "LocalHomologySheafConv",
    "NeuralSheafDiffusionConv", "NormNonlinearity", "SteerableConv", "kl_divergence", "likelihood_kl_chain",
]

from topoequi.nn.persistence_image import PersistenceImage
from topoequi.nn.persistence_landscape import PersistenceLandscape
from topoequi.nn.perslay import PersLay
from topoequi.nn.topological_loss import TopologicalLoss

__all__ += ["PersLay", "PersistenceImage", "PersistenceLandscape", "TopologicalLoss"]

from topoequi.nn.conv.steerable_image_conv import SteerableImageConv
from topoequi.nn.group_pooling import GroupPooling
from topoequi.nn.invariant_projection import InvariantProjection
from topoequi.nn.pixelwise import Pixelwise
from topoequi.nn.regular_fields import RegularBatchNorm, regular_field_rep
from topoequi.nn.restrict_group import RestrictGroup, restrict_rep

__all__ += ["GroupPooling", "InvariantProjection", "Pixelwise", "RegularBatchNorm", "RestrictGroup",
            "SteerableImageConv", "regular_field_rep", "restrict_rep"]

from topoequi.nn.conv import GramEdgeConv, SheafDiffusion, SteerableMessagePassing

__all__ += ["GramEdgeConv", "SheafDiffusion", "SteerableMessagePassing"]

from topoequi.nn.change_of_basis import ChangeOfBasis

__all__ += ["ChangeOfBasis"]

from topoequi.nn.conv.regular_depthwise_conv import RegularDepthwiseConv

__all__ += ["RegularDepthwiseConv"]
