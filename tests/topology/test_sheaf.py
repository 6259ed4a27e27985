"""The vectorised local homology sheaf against the reference, its Laplacian, persistence gradients."""
import numpy as np
import pytest
import torch

from topoequi.topology import (
    clique_complex,
    coboundary,
    complex_from_simplices,
    harmonic_basis,
    laplacian_diagonal,
    local_betti,
    local_homology_sheaf,
    persistent_restriction,
    restriction_map,
    sheaf_laplacian,
    with_constant_sheaf,
)


def random_clique_complex(n, p, seed):
    rng = np.random.default_rng(seed)
    a = np.triu(rng.random((n, n)) < p, 1)
    return clique_complex(torch.from_numpy(np.array(np.nonzero(a))), n)


CASE_NAMES = ["octahedron", "torus", "rp2", "disk", "bowtie", "pinched", "book", "graph", "random"]


@pytest.fixture(scope="module")
def complexes(surfaces):
    """The complexes of the tests by name: the hand-built surfaces, a graph and a random clique complex."""
    cases = {name: complex_from_simplices(surfaces[name])
             for name in CASE_NAMES[:7]}
    cases["graph"] = complex_from_simplices([(0, 1), (0, 2), (0, 3), (1, 2), (3, 4)], 7)
    cases["random"] = random_clique_complex(14, 0.4, 0)
    return cases




def reference_laplacian(cx):
    """Dense L = delta^T delta from the reference harmonic bases and restriction maps."""
    simplices = [s for layer in cx.simplices() for s in layer]
    n = cx.num_nodes
    bases = [harmonic_basis(simplices, (v,))[1] for v in range(n)]
    widths = [[b.shape[1] if b.size else 0 for b in bv] + [0] * (3 - len(bv)) for bv in bases]
    off = np.concatenate([[0], np.cumsum([sum(w) for w in widths])])
    rows = []
    for e in cx.simplices()[1]:
        maps = [restriction_map(simplices, (v,), e) for v in e]
        for k in (1, 2):
            if k >= len(maps[0]):
                continue
            for r in range(maps[0][k].shape[0]):
                row = np.zeros(off[-1])
                for side, v in enumerate(e):
                    start = off[v] + sum(widths[v][:k])
                    row[start:start + maps[side][k].shape[1]] += (1 if side else -1) * maps[side][k][r]
                rows.append(row)
    delta = np.array(rows) if rows else np.zeros((0, off[-1]))
    return delta.T @ delta


@pytest.mark.parametrize("name", CASE_NAMES)
def test_stalk_dims_match_reference(name, complexes):
    cx = complexes[name]
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes)
    simplices = [s for layer in cx.simplices() for s in layer]
    for v in range(cx.num_nodes):
        b = local_betti(simplices, (v,))
        assert sh.vertex_dims[v].tolist() == (b + [0, 0, 0])[:3]
    for i, e in enumerate(cx.simplices()[1]):
        b = local_betti(simplices, e)
        assert sh.edge_dims[i].tolist() == (b + [0, 0, 0])[:3]


@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_laplacian_is_unitarily_equivalent_to_reference(name, weighted, complexes):
    cx = complexes[name]
    w = torch.rand(cx.edges.size(0), generator=torch.Generator().manual_seed(1)) if weighted else None
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, edge_weight=w, dtype=torch.float64)
    lap = sheaf_laplacian(cx.edges, sh.restriction, cx.num_nodes).to_dense()
    assert torch.equal(lap, lap.T)
    ev = torch.linalg.eigvalsh(lap).numpy()
    assert ev.min() > -1e-12
    ref = np.linalg.eigvalsh(reference_laplacian(cx))
    padding = cx.num_nodes * sh.stalk_width - int(sh.vertex_mask.sum())
    assert len(ref) == len(ev) - padding
    np.testing.assert_allclose(np.sort(ev)[padding:], np.sort(ref), atol=1e-12)


def kernel_dim(cx, sh):
    lap = sheaf_laplacian(cx.edges, sh.restriction, cx.num_nodes).to_dense()
    ev = torch.linalg.eigvalsh(lap)
    padding = cx.num_nodes * sh.stalk_width - int(sh.vertex_mask.sum())
    return int((ev.abs() < 1e-10).sum()) - padding


@pytest.mark.parametrize("name,sections", [
    ("octahedron", 1), ("torus", 1), ("rp2", 0), ("disk", 0), ("bowtie", 1), ("pinched", 3),
    ("book", 0), ("graph", 3)])
def test_kernel_dimension_is_number_of_global_sections(name, sections, complexes):
    # closed orientable surface: the fundamental class; RP^2: none; pinched spheres: one per sphere
    # plus, at a pinch vertex, the H_1 class (link components) that every edge stalk kills (bowtie too).
    # graph: sections are 1-cycles (E - V + c = 5 - 7 + 3 = 1) plus one per isolated vertex (2).
    cx = complexes[name]
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, dtype=torch.float64)
    assert kernel_dim(cx, sh) == sections


@pytest.mark.parametrize("name,sections,components", [("torus", 1, 1), ("pinched", 3, 1), ("graph", 3, 3)])
def test_constant_sheaf_adds_one_section_per_component(name, sections, components, complexes):
    cx = complexes[name]
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, dtype=torch.float64)
    res = with_constant_sheaf(sh.restriction)
    lap = sheaf_laplacian(cx.edges, res, cx.num_nodes).to_dense()
    d = res.size(-1)
    # the appended coordinate's block is the graph Laplacian; isolated vertices count as components
    graph = lap.reshape(cx.num_nodes, d, cx.num_nodes, d)[:, -1, :, -1]
    deg = torch.bincount(cx.edges.reshape(-1), minlength=cx.num_nodes).double()
    assert torch.equal(graph.diagonal(), deg)
    padding = cx.num_nodes * (d - 1) - int(sh.vertex_mask.sum())
    zero = int((torch.linalg.eigvalsh(lap).abs() < 1e-10).sum()) - padding
    assert zero == sections + components
    with pytest.raises(ValueError, match="restriction must have shape"):
        with_constant_sheaf(torch.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="width \\+ signed_width must be >= 1"):
        with_constant_sheaf(sh.restriction, 0)
    with pytest.raises(ValueError, match="signed_width must be a non-negative int"):
        with_constant_sheaf(sh.restriction, 1, -1)


def test_constant_sheaf_of_width_two_adds_two_sections_per_component(complexes):
    cx = complexes["graph"]
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, dtype=torch.float64)
    one, two = with_constant_sheaf(sh.restriction), with_constant_sheaf(sh.restriction, 2)
    d = sh.restriction.size(-1)
    assert two.shape[-1] == d + 2 and torch.equal(two[..., :d + 1, :d + 1], one)
    assert torch.equal(two[..., d:, d:], torch.eye(2, dtype=torch.float64).expand(*two.shape[:2], 2, 2))
    assert torch.equal(two[..., d + 1, :d + 1], torch.zeros(*two.shape[:2], d + 1, dtype=torch.float64))

    def kernel(res):
        lap = sheaf_laplacian(cx.edges, res, cx.num_nodes).to_dense()
        return int((torch.linalg.eigvalsh(lap).abs() < 1e-10).sum())

    assert kernel(two) - kernel(one) == 3                        # one more section per component


@pytest.mark.parametrize("edges,num_nodes,sections", [
    ([[0, 1], [1, 2], [2, 3], [0, 3]], 4, 1),                    # square: bipartite
    ([[0, 1], [1, 2], [0, 2]], 3, 0),                            # triangle: odd cycle
    ([[0, 1], [1, 2], [0, 2], [3, 4], [4, 5]], 6, 1),            # triangle + path: one bipartite component
    ([[0, 1], [2, 3]], 5, 3),                                    # two edges and an isolated vertex
])
def test_signed_sheaf_blocks_are_the_signless_laplacian(edges, num_nodes, sections):
    edges = torch.tensor(edges)
    # a zero sheaf (d = 1, all maps 0) under the line sheaves isolates their coordinates
    res = with_constant_sheaf(torch.zeros(len(edges), 2, 1, 1, dtype=torch.float64), 1, 1)
    assert res[:, 0, 1:, 1:].tolist() == [[[1, 0], [0, 1]]] * len(edges)
    assert res[:, 1, 1:, 1:].tolist() == [[[1, 0], [0, -1]]] * len(edges)
    lap = sheaf_laplacian(edges, res, num_nodes).to_dense().reshape(num_nodes, 3, num_nodes, 3)
    adj = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    adj[edges[:, 0], edges[:, 1]] = adj[edges[:, 1], edges[:, 0]] = 1
    deg = torch.diag(adj.sum(1))
    assert torch.equal(lap[:, 1, :, 1], deg - adj) and torch.equal(lap[:, 2, :, 2], deg + adj)
    assert torch.equal(lap[:, 1, :, 2], torch.zeros_like(adj))
    # signed sections: the +-1 colourings of the bipartite components (isolated vertices included)
    signed = with_constant_sheaf(torch.zeros(len(edges), 2, 1, 1, dtype=torch.float64), 0, 1)[..., 1:, 1:]
    lap = sheaf_laplacian(edges, signed, num_nodes).to_dense()
    assert int((torch.linalg.eigvalsh(lap).abs() < 1e-10).sum()) == sections


def test_graph_sections_are_cycles():
    for seed in range(3):
        rng = np.random.default_rng(seed)
        a = np.triu(rng.random((12, 12)) < 0.3, 1)
        ei = torch.from_numpy(np.array(np.nonzero(a)))
        cx = clique_complex(ei, 12, max_dim=1)
        sh = local_homology_sheaf(cx.edges, cx.triangles, 12, dtype=torch.float64)
        import networkx as nx
        g = nx.Graph()
        g.add_nodes_from(range(12))
        g.add_edges_from(cx.edges.tolist())
        isolated = sum(1 for v in g if g.degree(v) == 0)
        cycles = g.number_of_edges() - 12 + nx.number_connected_components(g)
        assert kernel_dim(cx, sh) == cycles + isolated
        assert sh.vertex_dims[:, 1].tolist() == [max(g.degree(v) - 1, 0) for v in range(12)]


def test_coboundary_and_normalised_laplacian(complexes):
    cx = complexes["random"]
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, stalk_width=3, dtype=torch.float64)
    x = torch.randn(cx.num_nodes, 3, dtype=torch.float64)
    dx = coboundary(x, cx.edges, sh.restriction)
    lap = sheaf_laplacian(cx.edges, sh.restriction, cx.num_nodes)
    assert torch.allclose((dx ** 2).sum(), x.reshape(-1) @ (lap @ x.reshape(-1)))
    diag = laplacian_diagonal(cx.edges, sh.restriction, cx.num_nodes).reshape(-1)
    assert torch.allclose(diag, lap.to_dense().diagonal())
    norm = sheaf_laplacian(cx.edges, sh.restriction, cx.num_nodes, normalized=True).to_dense()
    assert torch.allclose(norm, norm.T)
    nz = diag > 0
    assert torch.allclose(norm.diagonal()[nz], torch.ones(int(nz.sum()), dtype=torch.float64))
    ev = torch.linalg.eigvalsh(norm)
    assert ev.min() > -1e-12


def test_truncation_keeps_the_leading_block(complexes):
    cx = complexes["random"]
    full = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, dtype=torch.float64)
    cut = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, stalk_width=2, dtype=torch.float64)
    assert torch.equal(full.vertex_dims, cut.vertex_dims)
    assert torch.allclose(full.restriction[..., :2, :2], cut.restriction)


def permuted(cx, perm):
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm))
    ei = inv[cx.edges.T]
    tri = [tuple(inv[t].tolist()) for t in cx.triangles]
    new = complex_from_simplices([tuple(e) for e in ei.T.tolist()] + tri, cx.num_nodes)
    return new, inv


@pytest.mark.parametrize("name", ["random", "torus", "pinched", "book"])
def test_persistent_basis_is_canonical_under_relabelling(name, complexes):
    # with distinct weights the stalk bases are label-independent, so is the Laplacian
    cx = complexes[name]
    w = torch.rand(cx.edges.size(0), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, edge_weight=w, dtype=torch.float64)
    lap = sheaf_laplacian(cx.edges, sh.restriction, cx.num_nodes).to_dense()
    perm = torch.randperm(cx.num_nodes, generator=torch.Generator().manual_seed(4))
    new, inv = permuted(cx, perm)
    key = {tuple(sorted(inv[e].tolist())): i for i, e in enumerate(cx.edges)}
    w_new = w[torch.tensor([key[tuple(e)] for e in new.edges.tolist()])]
    sh2 = local_homology_sheaf(new.edges, new.triangles, new.num_nodes, edge_weight=w_new, dtype=torch.float64)
    lap2 = sheaf_laplacian(new.edges, sh2.restriction, new.num_nodes).to_dense()
    d = sh.stalk_width
    idx = (perm[:, None] * d + torch.arange(d)).reshape(-1)       # new vertex i is old perm[i]
    moved = lap[idx][:, idx]
    assert torch.allclose(moved.abs(), lap2.abs(), atol=1e-12)
    assert torch.allclose(torch.linalg.eigvalsh(moved), torch.linalg.eigvalsh(lap2), atol=1e-12)
    # the basis is intrinsic, signs included: the relabelled Laplacian is the same matrix
    assert torch.allclose(moved, lap2, atol=1e-12)


def test_persistent_sheaf_gradients_match_finite_differences(complexes):
    cx = complexes["random"]
    w0 = torch.rand(cx.edges.size(0), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    sh = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, edge_weight=w0, stalk_width=3,
                              dtype=torch.float64)
    probe = torch.randn(cx.num_nodes * 3, cx.num_nodes * 3, generator=torch.Generator().manual_seed(6),
                        dtype=torch.float64)

    def f(w, scale):
        # the combinatorial part is rebuilt from the weights every call, as in the layers
        s = local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, edge_weight=w.detach(),
                                 stalk_width=3, dtype=torch.float64)
        r = persistent_restriction(s, cx.edges, w, scale, temperature=0.1)
        return (sheaf_laplacian(cx.edges, r, cx.num_nodes).to_dense() * probe).sum()

    assert torch.equal(sh.restriction, local_homology_sheaf(
        cx.edges, cx.triangles, cx.num_nodes, edge_weight=w0, stalk_width=3, dtype=torch.float64).restriction)
    torch.autograd.gradcheck(f, (w0.clone().requires_grad_(), torch.tensor(0.5, dtype=torch.float64,
                                                                        requires_grad=True)),
                             eps=1e-7, atol=1e-6)
    w = w0.clone().requires_grad_()
    f(w, 0.5).backward()
    assert w.grad.abs().sum() > 0


def test_bad_input_is_rejected(complexes):
    cx = complexes["random"]
    with pytest.raises(ValueError, match="edge_weight must have shape"):
        local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, edge_weight=torch.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes,
                             edge_weight=torch.full((cx.edges.size(0),), float("nan")))
    with pytest.raises(ValueError, match="sorted vertex pairs"):
        local_homology_sheaf(torch.tensor([[1, 0]]), torch.zeros(0, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="unique"):
        local_homology_sheaf(torch.tensor([[0, 1], [0, 1]]), torch.zeros(0, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="all their edges"):
        local_homology_sheaf(torch.tensor([[0, 1], [0, 2]]), torch.tensor([[0, 1, 2]]), 3)
    with pytest.raises(ValueError, match="stalk_width"):
        local_homology_sheaf(cx.edges, cx.triangles, cx.num_nodes, stalk_width=0)
    with pytest.raises(TypeError, match="integer"):
        local_homology_sheaf(torch.tensor([[0.0, 1.0]]), torch.zeros(0, 3, dtype=torch.long), 2)


def test_empty_complex_and_isolated_vertices():
    sh = local_homology_sheaf(torch.zeros(0, 2, dtype=torch.long), torch.zeros(0, 3, dtype=torch.long), 3)
    assert sh.vertex_dims.tolist() == [[1, 0, 0]] * 3
    assert sh.restriction.shape == (0, 2, 1, 1)
    sh = local_homology_sheaf(torch.zeros(0, 2, dtype=torch.long), torch.zeros(0, 3, dtype=torch.long), 0)
    assert sh.vertex_dims.shape == (0, 3)
