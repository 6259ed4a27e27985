"""Generalization bounds of trained networks: the Fourier-domain PAC-Bayes bound of equivariant
networks beside NBS18's bound on the dense unrolled weights."""
from topoequi.theory.fourier_blocks import (
    DenseNorms,
    FourierBlock,
    LayerBlocks,
    dense_norms,
    fourier_blocks,
    register_layer,
)
from topoequi.theory.margins import input_norm_bound, margin_loss, margins
from topoequi.theory.pac_bayes import Bound, LayerTerms, network_chain, pac_bayes_bounds

__all__ = ["Bound", "DenseNorms", "FourierBlock", "LayerBlocks", "LayerTerms", "dense_norms", "fourier_blocks",
           "input_norm_bound", "margin_loss", "margins", "network_chain", "pac_bayes_bounds", "register_layer"]
