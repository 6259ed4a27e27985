r"""Neural lattice reduction with exactly unimodular, factorized outputs.

After Marchetti, Cesa, Pratik & Behboodi, `Neural Lattice Reduction: A
Self-Supervised Geometric Deep Learning Approach <https://arxiv.org/abs/2311.08170>`_.
The method as implemented here (the paper's own architecture details were not
available; this is our design, documented in full):

* The basis :math:`B` is seen only through its Gram matrix :math:`G = B^\top B`,
  so everything is invariant to isometries :math:`B \mapsto QB`, :math:`Q \in O(n)`;
  all features are ratios, so it is invariant to scale too.
* One step: sort the basis vectors by length; a complete-graph GNN
  (:class:`~topoequi.nn.conv.GramEdgeConv` layers on
  :func:`~topoequi.transforms.lattice_graph.lattice_graph_features`) predicts, for
  every edge :math:`i \to j` with :math:`b_i` shorter than :math:`b_j`, two invariant
  gains :math:`\alpha_{ij}, \beta_{ij}`; the move coefficients are

  .. math::
      K_{ij} = -\big\lfloor \alpha_{ij} P_{ij} + \beta_{ij}\,\mu_{ij} \big\rceil \, [i \prec j],

  with :math:`\mu_{ij} = G_{ij}/G_{ii}` (Gauss move) and :math:`P_{ij}` the projection
  coefficients of :math:`b_j` on the shorter vectors (Babai rounding at
  :math:`\alpha = 1, \beta = 0`, the initialisation). Both transform like :math:`G_{ij}`
  under signed permutations, the gains are invariant, and rounding is odd, so the
  output is equivariant to the hyperoctahedral group (up to ties in the length order).
* :math:`T = I + K` is unit triangular in the length order: a product of extended
  Gauss moves with :math:`\det T = 1` exactly. Steps are iterated, :math:`U = T_1 T_2 \cdots`,
  composed in exact integer arithmetic.
* :meth:`NeuralLatticeReducer.reduce` feeds the network the Gram matrix of each current
  basis rescaled by a power of two (largest entry in :math:`[1/2, 1)`), computed exactly for
  integer bases of any size and exactly rescaled for floats, so a basis scaled by 1e200 or
  1e-200 is reduced by the same :math:`U` as the basis itself; :math:`U` is applied to the
  bases as given.
* Per column, the network move is kept only if it shortens that vector; with
  ``classical_proposals=True`` the best single Gauss move and plain Babai rounding
  compete for each column too. Column lengths therefore never grow, and
  :meth:`NeuralLatticeReducer.reduce` returns the best basis seen (never worse than the input).
* Training is self-supervised (no LLL labels): at every step, the decrease of the log
  orthogonality defect that the network's own moves would cause (columns it would
  lengthen count as unchanged, since they are rejected), as a fraction of the defect
  left, through straight-through rounding; the trajectory itself is not differentiated.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import Tensor, nn

from topoequi.lattice.basis import (
    check_basis,
    is_integer_array,
    log_norm_product,
    log_orthogonality_defect_from_gram,
    scaled_float,
)
from topoequi.lattice.moves import best_gauss_move, column_norms_after, select_columns
from topoequi.lattice.unimodular import (
    FLOAT_EXACT_LIMIT,
    INT64_LIMIT,
    apply_unimodular,
    integer_matmul,
)
from topoequi.nn.conv.gram_edge_conv import GramEdgeConv
from topoequi.progress import progress_bar
from topoequi.transforms.lattice_graph import (
    EDGE_FEATURES,
    NODE_FEATURES,
    complete_graph_edge_index,
    lattice_graph_features,
)


def integer_moves(moves: Tensor) -> np.ndarray:
    """Integer-valued float moves as exact integers: ``int64``, or Python integers beyond its range."""
    values = moves.round().cpu().numpy()
    if values.size == 0 or np.abs(values).max() < INT64_LIMIT:
        return values.astype(np.int64)
    out = np.empty(values.shape, dtype=object)
    out.ravel()[:] = [int(v) for v in values.ravel()]
    return out


def round_straight_through(x: Tensor) -> Tensor:
    """``round(x)`` in the forward pass, identity gradient in the backward pass."""
    return x + (torch.round(x) - x).detach()


class NeuralLatticeReducer(nn.Module):
    r"""Iterated, equivariant GNN proposals of unimodular column moves (see the module docstring).

    Args:
        hidden_channels (int, optional): width of node and edge states. (default: ``16``)
        num_layers (int, optional): number of :class:`GramEdgeConv` layers. (default: ``2``)
        steps (int, optional): reduction steps per call unless overridden. (default: ``8``)
        classical_proposals (bool, optional): let the best Gauss move and Babai rounding
            compete with the network move for each column. (default: ``True``)

    Shapes:
        - **input:** Gram matrices :math:`(B, n, n)` (:meth:`forward`) or bases (:meth:`reduce`)
        - **output:** unimodular :math:`U` :math:`(B, n, n)` and per-step log defects
    """

    def __init__(self, hidden_channels: int = 16, num_layers: int = 2, steps: int = 8,
                 classical_proposals: bool = True) -> None:
        super().__init__()
        if hidden_channels < 1 or num_layers < 0 or steps < 0:
            raise ValueError(f"NeuralLatticeReducer: need hidden_channels >= 1, num_layers >= 0, steps >= 0; "
                             f"got {hidden_channels}, {num_layers}, {steps}")
        self.config = {"hidden_channels": hidden_channels, "num_layers": num_layers, "steps": steps,
                       "classical_proposals": classical_proposals}
        self.steps = steps
        self.classical_proposals = classical_proposals
        self.node_encoder = nn.Linear(NODE_FEATURES, hidden_channels)
        self.edge_encoder = nn.Linear(EDGE_FEATURES, hidden_channels)
        self.convs = nn.ModuleList([GramEdgeConv(hidden_channels) for _ in range(num_layers)])
        self.head = nn.Sequential(nn.Linear(3 * hidden_channels, hidden_channels), nn.SiLU(),
                                  nn.Linear(hidden_channels, 2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.node_encoder.reset_parameters()
        self.edge_encoder.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        self.head[0].reset_parameters()
        nn.init.zeros_(self.head[-1].weight)  # start exactly at Babai rounding (alpha=1, beta=0)
        nn.init.zeros_(self.head[-1].bias)

    def propose(self, gram: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        r"""Real-valued move coefficients :math:`-(\alpha P + \beta\mu)` on the length order, ``[B, n, n]``,
        and the graph features they were computed from."""
        num, n = gram.shape[0], gram.shape[-1]
        feats = lattice_graph_features(gram)
        dtype = self.node_encoder.weight.dtype
        off = ~torch.eye(n, dtype=torch.bool, device=gram.device)
        x = self.node_encoder(feats["x"].reshape(num * n, NODE_FEATURES).to(dtype))
        e = self.edge_encoder(feats["edge_attr"][:, off].reshape(-1, EDGE_FEATURES).to(dtype))
        edge_index = complete_graph_edge_index(num, n, device=gram.device)
        for conv in self.convs:
            x, e = conv(x, edge_index, e)
        gains = self.head(torch.cat([x[edge_index[0]], x[edge_index[1]], e], -1)).to(gram.dtype)
        alpha = torch.ones_like(gram).masked_scatter(off, 1 + gains[:, 0])
        beta = torch.zeros_like(gram).masked_scatter(off, gains[:, 1])
        return -(alpha * feats["projection"] + beta * feats["mu"]) * feats["mask"], feats

    def step(self, gram: Tensor) -> tuple[Tensor, Tensor]:
        """One step: ``(network moves with straight-through rounding, selected integer moves)``."""
        coeffs, feats = self.propose(gram)
        moves = round_straight_through(coeffs)
        proposals = [moves.detach()]
        if self.classical_proposals:
            proposals += [best_gauss_move(gram, feats["mask"]), -torch.round(feats["projection"])]
        return moves, select_columns(gram, proposals)

    @classmethod
    def from_checkpoint(cls, path, device: str | torch.device = "cpu") -> tuple[NeuralLatticeReducer, dict]:
        """The reducer a ``topoequi train lattice`` checkpoint holds (in eval mode, on ``device``), and the
        checkpoint's configuration."""
        from topoequi.files import load_checkpoint

        ckpt = load_checkpoint(path)
        config = ckpt.get("config", {})
        if config.get("task") != "lattice":
            raise ValueError(f"checkpoint '{path}' is not a lattice reducer checkpoint (task={config.get('task')!r})")
        model = cls(config["hidden_channels"], config["num_layers"], config["steps"], config["classical_proposals"])
        model.load_state_dict(ckpt["model"])
        return model.to(device).eval(), config

    def forward(self, gram: Tensor, steps: int | None = None) -> dict[str, Tensor]:
        r"""Run ``steps`` steps on Gram matrices ``[B, n, n]`` (float64 recommended).

        Returns a dict with ``loss`` (relative change of the log defect due to the network's
        own moves, summed over steps, batch mean; differentiable), ``log_defect`` ``[steps + 1, B]`` along
        the selected trajectory and ``unimodular`` ``[B, n, n]`` (integer-valued floats).
        """
        if gram.ndim != 3 or gram.shape[-1] != gram.shape[-2] or gram.shape[-1] < 2:
            raise ValueError(f"NeuralLatticeReducer: gram must be [B, n, n] with n >= 2, got {tuple(gram.shape)}")
        steps = self.steps if steps is None else steps
        n = gram.shape[-1]
        u = torch.eye(n, dtype=gram.dtype, device=gram.device).expand_as(gram).clone()
        current = gram
        defects = [log_orthogonality_defect_from_gram(gram)]
        loss = gram.new_zeros(())
        for _ in range(steps):
            moves, selected = self.step(current)
            ratio = column_norms_after(current, moves) / torch.diagonal(current, dim1=-2, dim2=-1)
            change = 0.5 * torch.log(torch.clamp(ratio, max=1.0)).sum(-1)
            loss = loss + (change / defects[-1].clamp_min(1e-3)).mean()
            u = u @ (selected + torch.eye(n, dtype=gram.dtype, device=gram.device))
            current = u.transpose(-1, -2) @ gram @ u
            defects.append(log_orthogonality_defect_from_gram(current))
        return {"loss": loss, "log_defect": torch.stack(defects), "unimodular": u}

    @torch.no_grad()
    def reduce(self, bases, steps: int | None = None, batch_size: int = 1024,
               progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        r"""Reduce one basis ``[n, n]`` or a batch ``[B, n, n]`` (columns are basis vectors).

        Returns ``(bases @ U, U)`` with ``U`` exactly unimodular (``int64``, or Python integers
        when an integer basis needs larger entries; composed in exact integer arithmetic), the
        best basis met along the way, never one with a larger orthogonality defect than the input
        (checked on the returned basis, exactly for integer bases).

        Raises:
            ValueError / TypeError: non-square, non-finite, non-numeric, singular or empty input,
                ``steps < 1`` or ``batch_size < 1``.
            OverflowError: a float basis whose transformation entry would exceed 2**53
                (outside the supported range).
        """

        steps = self.steps if steps is None else steps
        for arg, value in (("steps", steps), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"NeuralLatticeReducer.reduce: {arg} must be an integer >= 1, got {value!r}")
        arr = check_basis(bases, "bases")
        single = arr.ndim == 2
        if arr.ndim not in (2, 3):
            raise ValueError(f"bases must be [n, n] or [B, n, n], got shape {arr.shape}")
        batch = arr[None] if single else arr
        work = batch if is_integer_array(batch) else scaled_float(batch)[0]  # an exact rescaling
        chunks = [self._reduce_chunk(work[start:start + batch_size], steps) if batch.shape[-1] >= 2 else
                  np.broadcast_to(np.eye(1, dtype=np.int64), work[start:start + batch_size].shape).copy()
                  for start in progress_bar(range(0, batch.shape[0], batch_size), progress, desc="reduce",
                                            unit="chunk")]
        best_u = np.concatenate(chunks) if all(c.dtype != object for c in chunks) else \
            np.concatenate([c.astype(object) for c in chunks])
        reduced = apply_unimodular(batch, best_u)
        worse = log_norm_product(reduced) > log_norm_product(batch)  # |det| is unchanged
        if np.any(worse):  # keep the better basis, as measured on the bases themselves
            best_u[worse] = np.eye(batch.shape[-1], dtype=np.int64)
            reduced = apply_unimodular(batch, best_u)
        return (reduced[0], best_u[0]) if single else (reduced, best_u)

    @staticmethod
    def _scaled_gram(basis: np.ndarray) -> tuple[Tensor, Tensor]:
        """Gram matrices of ``basis`` ``[b, n, n]`` rescaled by powers of two, and the log norm products."""
        if is_integer_array(basis):
            gram, exps = scaled_float(integer_matmul(np.swapaxes(basis, -1, -2), basis))
        else:
            scaled, exps = scaled_float(basis)
            gram, exps = np.swapaxes(scaled, -1, -2) @ scaled, 2 * exps
        gram = torch.from_numpy(gram)
        norms = 0.5 * (torch.log(torch.diagonal(gram, dim1=-2, dim2=-1)).sum(-1)
                       + gram.shape[-1] * torch.from_numpy(exps) * math.log(2))
        return gram, norms

    def _reduce_chunk(self, basis: np.ndarray, steps: int) -> np.ndarray:
        """The best ``U`` within ``steps`` steps for each basis of ``[b, n, n]`` (floats: already rescaled)."""
        n, exact = basis.shape[-1], is_integer_array(basis)
        u = np.broadcast_to(np.eye(n, dtype=np.int64), basis.shape).copy()
        best_u = u.copy()
        gram, best = self._scaled_gram(basis)
        eye = np.eye(n, dtype=np.int64)
        active = np.arange(basis.shape[0])  # a lattice whose step selects no move has converged
        device = self.node_encoder.weight.device
        for _ in range(steps):
            selected = self.step(gram.to(device))[1].cpu()
            moved = torch.any(selected.flatten(1) != 0, dim=1).numpy()
            active, selected = active[moved], selected[moved]
            if active.size == 0:
                break
            step_u = integer_matmul(u[active], integer_moves(selected) + eye)
            if step_u.dtype == object and u.dtype != object:
                u, best_u = u.astype(object), best_u.astype(object)
            u[active] = step_u
            if not exact and np.abs(u[active]).max() >= FLOAT_EXACT_LIMIT:
                raise OverflowError("NeuralLatticeReducer: transformation entries exceed 2**53, outside the "
                                    "supported range for float bases (the input basis is too ill-conditioned)")
            gram, norms = self._scaled_gram(apply_unimodular(basis[active], u[active]))
            better = (norms < best[active]).numpy()
            best_u[active[better]] = u[active[better]]
            best[active] = torch.minimum(best[active], norms)
        return best_u
