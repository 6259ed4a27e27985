"""Steerable message passing on molecules: the implicit-kernel QM9 model and its analytic baseline."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from topoequi.graph import radius_graph
from topoequi.nn import (
    EquivariantBatchNorm,
    EquivariantLinear,
    FourierNonlinearity,
    GatedNonlinearity,
    ImplicitSteerableConv,
    SteerableConv,
)
from topoequi.symmetry import Group, Rep, group_from_name

NUM_ATOM_TYPES = 10  # atomic numbers 1..9 cover QM9 (H, C, N, O, F)
NUM_BOND_TYPES = 4  # single, double, triple, aromatic (PyG's one-hot edge_attr)


def hidden_rep_for(group: Group, irreps: Rep | str) -> Rep:
    """The hidden fields: a representation of ``group`` as it is, or one of O(3) (a :class:`Rep` or its
    e3nn string, e.g. ``"32x0e+8x1o+4x2e"``) restricted to ``group`` and put in its irreps basis
    (features then transform with that group's irreps)."""
    rep = irreps if isinstance(irreps, Rep) else Rep.from_e3nn(irreps)
    if rep.group != group:
        rep = rep.restrict(group)
    return Rep(group, rep.irreps)


class SteerableMoleculeNet(nn.Module):
    r"""Invariant regressor of molecular properties from steerable point convolutions, after the
    QM9 model of `"Implicit Convolutional Kernels for Steerable CNNs"
    <https://arxiv.org/abs/2212.06096>`_.

    Atoms are embedded as invariant features; each block is

    .. math::
        f \leftarrow f + \sigma\Big(\mathrm{BN}\big(\textstyle\sum_{j} K(p_j - p_i, z_{ij}) f_j
        + W_{self} f_i\big)\Big)

    (the residual only where the representations agree), with a gated
    nonlinearity :math:`\sigma` or a Fourier one (:class:`~topoequi.nn.FourierNonlinearity`
    on ``fourier_channels`` copies of ``G.regular_rep(fourier_frequency)``); the
    invariant features of the last block go through an MLP to one number per atom, summed (or averaged) per molecule.
    Edges join atoms closer than ``cutoff``. With ``edge_attributes=True`` the
    kernel also sees the paper's edge attributes :math:`z_{ij}`: one-hot atom
    types of both ends and the bond type (or "no bond"). With
    ``node_attributes=True`` it also sees the invariant part :math:`s` of the
    current features of both atoms, :math:`K(p_j - p_i, [z_{ij}, s_i, s_j])`, so
    each block's kernels adapt to what the atoms have learned of their
    surroundings (an implicit kernel takes any invariant input; the analytic
    basis cannot).

    Args:
        kernel (str, optional): ``"implicit"`` (:class:`~topoequi.nn.ImplicitSteerableConv`)
            or ``"steerable"`` (:class:`~topoequi.nn.SteerableConv`). (default: ``"implicit"``)
        group (Group or str, optional): symmetry group, O(3) or any subgroup of it. (default: ``"O(3)"``)
        hidden_irreps (Rep or str, optional): hidden fields: a :class:`~topoequi.symmetry.Rep` of
            ``group`` (``group.rep("8x0+4x1")``), or O(3) irreps (a ``Rep`` or the e3nn string)
            restricted to ``group``. (default: ``"32x0e+8x1o+4x2e"``)
        num_layers (int, optional): convolution blocks. (default: ``3``)
        embedding_dim (int, optional): invariant atom embedding width. (default: ``32``)
        cutoff (float, optional): radius of the interaction graph in Angstrom. (default: ``5.0``)
        max_num_neighbors (int, optional): neighbours kept per atom. (default: ``32``)
        edge_attributes (bool, optional): atom + bond edge attributes (implicit only). (default: ``False``)
        node_attributes (bool, optional): invariant features of both atoms as kernel input
            (implicit only). (default: ``False``)
        readout (str, optional): ``"add"`` or ``"mean"`` over atoms. (default: ``"add"``)
        nonlinearity (str, optional): ``"gate"``, ``"fourier"`` (adaptive sampling on the
            fewest samples) or ``"fourier_uniform"`` (a fixed grid of as many); the Fourier
            ones replace ``hidden_irreps`` by regular representations. (default: ``"gate"``)
        fourier_frequency (int, optional): band-limit of the Fourier features. (default: ``1``)
        fourier_channels (int, optional): copies of the band-limited regular representation. (default: ``8``)
        **conv_kwargs: passed to the convolutions (e.g. ``max_frequency``, ``channels``).

    Shapes:
        - **input:** a PyG ``Batch`` with ``z``, ``pos``, ``batch`` (and bond ``edge_index``,
          ``edge_attr`` for edge attributes)
        - **output:** :math:`(|\mathcal{G}|)`
    """

    def __init__(self, kernel: str = "implicit", group: Group | str = "O(3)",
                 hidden_irreps: Rep | str = "32x0e+8x1o+4x2e",
                 num_layers: int = 3, embedding_dim: int = 32, cutoff: float = 5.0, max_num_neighbors: int = 32,
                 edge_attributes: bool = False, node_attributes: bool = False, readout: str = "add",
                 nonlinearity: str = "gate",
                 fourier_frequency: int = 1, fourier_channels: int = 8, **conv_kwargs):
        super().__init__()
        if kernel not in ("implicit", "steerable"):
            raise ValueError(f"SteerableMoleculeNet: kernel must be 'implicit' or 'steerable', got {kernel!r}")
        if (edge_attributes or node_attributes) and kernel != "implicit":
            raise ValueError("SteerableMoleculeNet: edge_attributes and node_attributes need kernel='implicit'")
        if readout not in ("add", "mean"):
            raise ValueError(f"SteerableMoleculeNet: readout must be 'add' or 'mean', got {readout!r}")
        if nonlinearity not in ("gate", "fourier", "fourier_uniform"):
            raise ValueError(f"SteerableMoleculeNet: nonlinearity must be 'gate', 'fourier' or 'fourier_uniform', "
                             f"got {nonlinearity!r}")
        self.group = group_from_name(group) if isinstance(group, str) else group
        if not isinstance(self.group, Group):
            raise TypeError(f"SteerableMoleculeNet: group must be a Group or its name, got {type(group).__name__}")
        if self.group.d != 3:
            raise ValueError(f"SteerableMoleculeNet: molecules live in R^3; {self.group} acts on R^{self.group.d}")
        self.cutoff, self.max_num_neighbors, self.readout = cutoff, max_num_neighbors, readout
        self.kernel, self.nonlinearity = kernel, nonlinearity
        self.edge_attributes, self.node_attributes = edge_attributes, node_attributes
        if nonlinearity == "gate":
            hidden, make_act = hidden_rep_for(self.group, hidden_irreps), GatedNonlinearity
        else:
            band = None if self.group.is_finite else fourier_frequency
            hidden = self.group.regular_rep(band).repeat(fourier_channels)
            make_act = FourierNonlinearity.factory(adaptive=nonlinearity == "fourier")
        self.embedding = nn.Embedding(NUM_ATOM_TYPES, embedding_dim)
        static = 2 * NUM_ATOM_TYPES + NUM_BOND_TYPES + 1 if edge_attributes else 0
        self.convs, self.self_interactions, self.norms, self.gates = (nn.ModuleList() for _ in range(4))
        rep = self.group.trivial_rep(embedding_dim)
        for _ in range(num_layers):
            gate = make_act(hidden)
            width = static + (2 * rep.num_invariants if node_attributes else 0)
            edge_rep = self.group.trivial_rep(width) if width else None
            if kernel == "implicit":
                conv = ImplicitSteerableConv(rep, gate.in_rep, edge_rep=edge_rep, cutoff=cutoff, **conv_kwargs)
            else:
                conv = SteerableConv(rep, gate.in_rep, cutoff=cutoff, **conv_kwargs)
            self.convs.append(conv)
            self.self_interactions.append(EquivariantLinear(rep, gate.in_rep, bias=False))
            self.norms.append(EquivariantBatchNorm(gate.in_rep))
            self.gates.append(gate)
            rep = hidden
        self.hidden_rep = hidden
        width = hidden.num_invariants
        self.head = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, 1))
        self.register_buffer("invariant_index", torch.arange(hidden.dim)[
            hidden.invariant_basis().abs().sum(1) > 0], persistent=False)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(kernel={self.kernel!r}, group={self.group}, hidden={self.hidden_rep}, "
                f"num_layers={len(self.convs)}, nonlinearity={self.nonlinearity!r}, cutoff={self.cutoff}, "
                f"readout={self.readout!r})")

    def edge_features(self, data, edge_index: Tensor) -> Tensor:
        """One-hot atom types of both ends and bond type (last column: no bond) of every edge."""
        z = data.z
        src, dst = edge_index
        atoms = nn.functional.one_hot(z, NUM_ATOM_TYPES).to(data.pos.dtype)
        bond = torch.zeros(edge_index.shape[1], NUM_BOND_TYPES + 1, dtype=data.pos.dtype, device=z.device)
        bond[:, -1] = 1.0
        if getattr(data, "edge_index", None) is not None and data.edge_index.numel():
            n = z.shape[0]
            keys = edge_index[0] * n + edge_index[1]
            bond_keys = data.edge_index[0] * n + data.edge_index[1]
            order = torch.argsort(bond_keys)
            where = torch.searchsorted(bond_keys[order], keys).clamp_max(len(order) - 1)
            found = bond_keys[order][where] == keys
            bond[found] = torch.cat([data.edge_attr[order][where[found]].to(bond.dtype),
                                     bond.new_zeros(int(found.sum()), 1)], 1)
        return torch.cat([atoms[src], atoms[dst], bond], 1)

    def interact(self, f: Tensor, pos: Tensor, edge_index: Tensor, static: Tensor | None, max_degree: int | None,
                 normalize: Callable[[nn.Module, Tensor], Tensor] | None = None) -> Tensor:
        """The interaction layers on atom features ``f``; ``normalize(norm, h)`` replaces ``norm(h)`` (e.g.
        batch statistics over the real atoms of a padded batch)."""
        for layer, (conv, self_int, norm, gate) in enumerate(
                zip(self.convs, self.self_interactions, self.norms, self.gates)):
            edge_attr = static
            if self.node_attributes:
                s = f if layer == 0 else f.index_select(1, self.invariant_index)
                edge_attr = torch.cat([a for a in (static, s[edge_index[0]], s[edge_index[1]]) if a is not None], 1)
            h = conv(f, pos, edge_index, edge_attr, max_degree=max_degree) + self_int(f)
            update = gate(norm(h) if normalize is None else normalize(norm, h))
            f = f + update if update.shape == f.shape else update
        return f

    def forward(self, data) -> Tensor:
        z, pos = data.z, data.pos
        batch = data.batch if getattr(data, "batch", None) is not None else z.new_zeros(z.shape[0])
        edge_index = radius_graph(pos, r=self.cutoff, batch=batch, max_num_neighbors=self.max_num_neighbors)
        static = self.edge_features(data, edge_index) if self.edge_attributes else None
        f = self.interact(self.embedding(z).to(pos.dtype), pos, edge_index, static, self.max_num_neighbors)
        atom_energy = self.head(f[:, self.invariant_index]).squeeze(-1)
        num_graphs = getattr(data, "num_graphs", None) if getattr(data, "batch", None) is not None else 1
        if num_graphs is None:  # a hand-made batch vector: read its size
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        return scatter(atom_energy, batch, dim=0, dim_size=num_graphs,
                       reduce="sum" if self.readout == "add" else "mean")


STEERABLE_MOLECULE_DEFAULTS = {"group": "O(3)", "hidden_irreps": "32x0e+8x1o+4x2e", "num_layers": 3,
                               "embedding_dim": 32, "cutoff": 5.0, "max_num_neighbors": 32,
                               "edge_attributes": False, "node_attributes": False, "readout": "add",
                               "max_frequency": 2, "num_radial": 8, "nonlinearity": "gate", "fourier_frequency": 1,
                               "fourier_channels": 8}


def build_steerable_molecule_net(kernel: str, hparams: dict) -> SteerableMoleculeNet:
    """A :class:`SteerableMoleculeNet` from ``hparams`` (keys of :data:`STEERABLE_MOLECULE_DEFAULTS`,
    plus ``channels`` and ``mlp`` for the implicit kernel's MLP). The implicit model sees the atom + bond edge
    attributes unless ``edge_attributes=False`` (the analytic kernel cannot take them)."""
    allowed = set(STEERABLE_MOLECULE_DEFAULTS) | ({"channels", "mlp"} if kernel == "implicit" else set())
    unknown = sorted(set(hparams) - allowed)
    if unknown:
        raise ValueError(f"unknown hyper-parameters {unknown}; the {kernel} model takes {sorted(allowed)}")
    defaults = {**STEERABLE_MOLECULE_DEFAULTS, "edge_attributes": kernel == "implicit"}
    return SteerableMoleculeNet(kernel=kernel, **{**defaults, **hparams})
