"""Persistence diagrams with gradients: topoequi against gudhi, giotto-ph and torch-topological.

Speed (``speed``): diagram + backward (the sum of all finite births and deaths) for topoequi and
torch-topological, the diagram alone for gudhi and giotto-ph called directly, on the same inputs:

- Vietoris-Rips (H0 and H1) of points in an annulus, 100-2,000 points, edges up to the length
  that gives ``--degree`` neighbours per point on average;
- the lower-star filtration (H0 and H1) of the clique complex of Geom-GCN graphs (Cora, Actor),
  node values uniform in [0, 1);
- cubical superlevel filtrations (H0 and H1) of 64 MNIST digits (28x28).

Times are medians of process CPU time on one thread, the methods interleaved round-robin.
Peers that are not installed are skipped.

Learning (``digits``): rotated MNIST (the embedded 5,000-digit sample, 3,500 / 500 / 1,000), classified
from persistence images of cubical diagrams (H0, H1; intensity superlevel and radial filtrations)
alone, by a small CNN, and by the same CNN with a PH branch; ``--train-sizes`` training digits,
``--seeds`` seeds, test accuracy at the epoch of best validation accuracy.

Nodes (``nodes``): a two-layer GCN on Geom-GCN graphs (the ten splits) with and without PH features of
every node's 2-hop neighbourhood (persistence images of the lower-star filtration by log-degree, and the
number of independent loops) appended to its input features.

    python benchmarks/bench_persistence.py speed --threads 1
    python benchmarks/bench_persistence.py digits --threads 1
    python benchmarks/bench_persistence.py nodes --threads 1
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import gudhi
import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv
from torch_geometric.utils import k_hop_subgraph

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import time_interleaved

from topoequi.datasets.node_classification import load_node_classification
from topoequi.datasets.rotated_mnist import RotatedMNIST, load_mnist_sample
from topoequi.nn import PersistenceImage
from topoequi.topology import clique_diagram, cubical_diagram, rips_diagram
from topoequi.topology.complex import clean_edges
from topoequi.topology.persistence_flag import distance_matrix
from topoequi.transforms import PersistenceDiagrams, collate_diagrams, diagrams_from_batch
from topoequi.typing import WITH_GIOTTO_PH, WITH_TORCH_TOPOLOGICAL

WITH_GPH = WITH_GIOTTO_PH
WITH_TORCH_TOPOLOGICAL = WITH_GIOTTO_PH and WITH_TORCH_TOPOLOGICAL


def annulus(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angle, radius = rng.uniform(0, 2 * np.pi, n), np.sqrt(rng.uniform(0.64, 1.44, n))
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)


def degree_radius(n: int, degree: float) -> float:
    """The edge length that gives ``degree`` neighbours per point in the annulus (area 0.8 pi)."""
    return math.sqrt(degree * 0.8 / n)


def backward_of(diagrams: list[torch.Tensor]) -> None:
    total = sum(d[torch.isfinite(d)].sum() for d in diagrams)
    total.backward()


def rips_methods(points: np.ndarray, r: float) -> dict:
    pos = torch.from_numpy(points)
    methods = {}

    def ours(engine):
        def run():
            p = pos.clone().requires_grad_(True)
            backward_of(rips_diagram(p, max_dim=1, max_edge_length=r, engine=engine).points)
        return run

    methods["topoequi (gudhi) + backward"] = ours("gudhi")
    if WITH_GPH:
        from gph import ripser_parallel

        methods["topoequi (giotto-ph) + backward"] = ours("giotto-ph")
        methods["giotto-ph diagram"] = lambda: ripser_parallel(points, maxdim=1, thresh=r)
        methods["giotto-ph diagram (sparse input)"] = lambda: ripser_parallel(
            distance_matrix(points, r), metric="precomputed", maxdim=1)
    if WITH_TORCH_TOPOLOGICAL:
        from torch_topological.nn import VietorisRipsComplex

        layer = VietorisRipsComplex(dim=1, threshold=r)

        def torch_topological():
            p = pos.clone().requires_grad_(True)
            backward_of([info.diagram for info in layer(p)])
        methods["torch-topological + backward"] = torch_topological

    def gudhi_plain():
        tree = gudhi.RipsComplex(points=points, max_edge_length=r).create_simplex_tree(max_dimension=2)
        tree.persistence()

    def gudhi_collapse():
        tree = gudhi.RipsComplex(points=points, max_edge_length=r).create_simplex_tree(max_dimension=1)
        tree.collapse_edges()
        tree.expansion(2)
        tree.persistence()
    methods["gudhi diagram"] = gudhi_plain
    methods["gudhi diagram (edge collapse)"] = gudhi_collapse
    return methods


def clique_methods(edge_index: torch.Tensor, num_nodes: int, values: torch.Tensor) -> dict:
    edges = clean_edges(edge_index, num_nodes)
    x = values.numpy()
    edge_vals = np.maximum(x[edges[:, 0]], x[edges[:, 1]])

    def ours():
        v = values.clone().requires_grad_(True)
        backward_of(clique_diagram(edge_index, num_nodes, node_values=v, max_dim=1).points)

    def gudhi_direct():
        tree = gudhi.SimplexTree()
        tree.insert_batch(np.arange(num_nodes)[None], x)
        tree.insert_batch(edges.T.copy(), edge_vals)
        tree.expansion(2)
        tree.persistence()
    methods = {"topoequi + backward": ours, "gudhi diagram": gudhi_direct}
    if WITH_GPH:
        from gph import ripser_parallel
        from scipy.sparse import coo_matrix

        rows = np.concatenate([np.arange(num_nodes), edges[:, 0]])
        cols = np.concatenate([np.arange(num_nodes), edges[:, 1]])
        matrix = coo_matrix((np.concatenate([x, edge_vals]), (rows, cols)), shape=(num_nodes, num_nodes))
        methods["giotto-ph diagram"] = lambda: ripser_parallel(matrix, metric="precomputed", maxdim=1)
    return methods


def cubical_methods(images: torch.Tensor) -> dict:
    def ours():
        im = images.clone().requires_grad_(True)
        backward_of(cubical_diagram(-im, max_dim=1).points)

    def gudhi_direct():
        for image in (-images).numpy():
            gudhi.CubicalComplex(top_dimensional_cells=image).persistence()
    # torch-topological 0.1.9's CubicalComplex hands torch tensors to gudhi, which gudhi 3.13 rejects
    # (TypeError in gudhi.CubicalComplex.__init__), so it has no row here.
    return {"topoequi + backward": ours, "gudhi diagram": gudhi_direct}


def report(case: str, methods: dict, repeats: int) -> None:
    timings = time_interleaved(methods, repeats=repeats, warmup=1, clock=time.process_time)
    ref = timings["gudhi diagram"].median
    for name, timing in timings.items():
        print(f"| {case} | {name} | {timing.median * 1e3:.1f} | {timing.median / ref:.2f} |", flush=True)


class DigitNet(torch.nn.Module):
    """A small CNN (``cnn``), an MLP on persistence images (``ph``), or both joined before the head."""

    def __init__(self, kind: str, ph_features: int) -> None:
        super().__init__()
        self.kind = kind
        width = 0
        if kind in ("cnn", "cnn+ph"):
            self.cnn = torch.nn.Sequential(
                torch.nn.Conv2d(1, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 64), torch.nn.ReLU())
            width += 64
        if kind in ("ph", "cnn+ph"):
            self.ph = torch.nn.Sequential(torch.nn.Linear(ph_features, 64), torch.nn.ReLU())
            width += 64
        self.head = torch.nn.Linear(width, 10)

    def forward(self, image: torch.Tensor, ph: torch.Tensor) -> torch.Tensor:
        parts = ([self.cnn(image)] if hasattr(self, "cnn") else []) + ([self.ph(ph)] if hasattr(self, "ph") else [])
        return self.head(torch.cat(parts, -1))


def radial(images: torch.Tensor, ink: float = 0.4) -> torch.Tensor:
    """The radial filtration (rotation invariant): the distance of each inked pixel to the intensity
    centroid (in units of 20 pixels); background pixels enter last, at 1.5."""
    h, w = images.shape[-2:]
    grid = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij"), -1).to(images.dtype)
    mass = images.sum((-2, -1))[:, None]
    centre = torch.einsum("nhw,hwc->nc", images, grid) / mass
    dist = (grid[None] - centre[:, None, None]).norm(dim=-1) / 20
    return torch.where(images > ink, dist, torch.full_like(dist, 1.5))


def ph_features(split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images ``[N, 1, 28, 28]``, labels and persistence images (H0, H1) of two filtrations, the
    superlevel sets of the intensity and the radial filtration, attached by ``PersistenceDiagrams``
    and read back per digit from one batch."""
    data = RotatedMNIST(split)
    images = data.image[:, 0].double()
    filtrations = {"ink": (-images, PersistenceImage(10, (-1.0, 0.0), (0.0, 1.0), sigma=0.05)),
                   "radial": (radial(images), PersistenceImage(10, (0.0, 1.5), (0.0, 1.5), sigma=0.08))}
    features = []
    for key, (values, vectorise) in filtrations.items():
        transform = PersistenceDiagrams("cubical", max_dim=1, key=key)
        diagram = diagrams_from_batch(collate_diagrams([transform(Data(**{key: v})) for v in values]))
        features += [vectorise(*diagram[k], num_graphs=len(values)) for k in (0, 1)]
    return data.image[:, :1].float(), data.y, torch.cat(features, -1).float()


def train_digits(kind: str, train, valid, test, seed: int, epochs: int) -> tuple[float, float]:
    """Adam, batch 64; the test accuracy at the epoch of best validation accuracy."""
    torch.manual_seed(seed)
    model = DigitNet(kind, train[2].size(1))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    best = (-1.0, 0.0)

    def accuracy(split) -> float:
        model.eval()
        with torch.no_grad():
            return (model(split[0], split[2]).argmax(-1) == split[1]).float().mean().item()

    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(train[1].numel()).split(64):
            loss = F.cross_entropy(model(train[0][idx], train[2][idx]), train[1][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        best = max(best, (accuracy(valid), accuracy(test)))
    return best


def digits(args: argparse.Namespace) -> None:
    start = time.process_time()
    train, valid, test = (ph_features(split) for split in ("train", "valid", "test"))
    print(f"diagrams and persistence images of 5,000 digits: {time.process_time() - start:.1f} CPU-s")
    print("| model | train digits | seed | valid acc | test acc | CPU-s |\n|---|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.train_sizes.split(",")):
        subset = tuple(t[:size] for t in train)
        for kind in ("ph", "cnn", "cnn+ph"):
            for seed in (int(s) for s in args.seeds.split(",")):
                start = time.process_time()
                val, tst = train_digits(kind, subset, valid, test, seed, args.epochs)
                print(f"| {kind} | {size} | {seed} | {val:.3f} | {tst:.3f} | {time.process_time() - start:.0f} |",
                      flush=True)


def ego_features(data: Data, hops: int = 2) -> torch.Tensor:
    """Per node: persistence images (H0, H1) of the lower-star filtration by log-degree of its
    ``hops``-hop neighbourhood's clique complex, and its number of independent loops (essential H1);
    all neighbourhoods in one batched call."""
    n = data.num_nodes
    degree = torch.bincount(data.edge_index[0], minlength=n).double()
    value = torch.log1p(degree) / torch.log1p(degree).max()
    graphs = []
    for v in range(n):
        nodes, edge_index, _, _ = k_hop_subgraph(v, hops, data.edge_index, relabel_nodes=True, num_nodes=n)
        graphs.append(Data(edge_index=edge_index, value=value[nodes], num_nodes=nodes.numel()))
    batch = Batch.from_data_list(graphs)
    diagram = clique_diagram(batch.edge_index, batch.num_nodes, node_values=batch.value, batch=batch.batch)
    image = PersistenceImage(5, (0.0, 1.0), (0.0, 1.0), sigma=0.1)
    loops = torch.bincount(diagram.essential_batch[1], minlength=n).double()[:, None]
    return torch.cat([image(*diagram[0], num_graphs=n), image(*diagram[1], num_graphs=n), torch.log1p(loops)], -1)


class GCN(torch.nn.Module):
    def __init__(self, in_channels: int, out_channels: int, hidden: int = 64) -> None:
        super().__init__()
        self.conv1, self.conv2 = GCNConv(in_channels, hidden), GCNConv(hidden, out_channels)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = F.dropout(F.relu(self.conv1(F.dropout(x, 0.5, self.training), edge_index)), 0.5, self.training)
        return self.conv2(h, edge_index)


def train_gcn(x: torch.Tensor, data: Data, split: int, epochs: int = 200) -> float:
    """Adam (lr 0.01, weight decay 5e-4); test accuracy at the epoch of best validation accuracy."""
    torch.manual_seed(split)
    model = GCN(x.size(1), int(data.y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    train, val, test = (m[:, split] for m in (data.train_mask, data.val_mask, data.test_mask))
    best = (-1.0, 0.0)
    for _ in range(epochs):
        model.train()
        loss = F.cross_entropy(model(x, data.edge_index)[train], data.y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(x, data.edge_index).argmax(-1)
        best = max(best, tuple((pred[m] == data.y[m]).float().mean().item() for m in (val, test)))
    return best[1]


def nodes(args: argparse.Namespace) -> None:
    print("| graph | GCN test acc | GCN + PH test acc | paired difference | PH features CPU-s |\n"
          "|---|---:|---:|---:|---:|")
    for name in args.node_graphs.split(","):
        data = load_node_classification(name)
        start = time.process_time()
        ph = ego_features(data).float()
        seconds = time.process_time() - start
        ph = (ph - ph.mean(0)) / ph.std(0).clamp(min=1e-6)
        with_ph = torch.cat([data.x, ph], -1)
        plain = torch.tensor([train_gcn(data.x, data, s) for s in range(data.train_mask.size(1))])
        topo = torch.tensor([train_gcn(with_ph, data, s) for s in range(data.train_mask.size(1))])
        diff = topo - plain
        print(f"| {name} | {plain.mean():.3f} +- {plain.std():.3f} | {topo.mean():.3f} +- {topo.std():.3f} | "
              f"{diff.mean():+.3f} +- {diff.std():.3f} | {seconds:.1f} |", flush=True)


def speed(args: argparse.Namespace) -> None:
    torch.set_default_dtype(torch.float64)
    print("| case | method | CPU ms (median) | / gudhi diagram |\n|---|---|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        r = degree_radius(n, args.degree)
        report(f"Rips n = {n:,}, r = {r:.3f}", rips_methods(annulus(n), r), args.repeats)
    for name in args.graphs.split(","):
        data = load_node_classification(name)
        values = torch.rand(data.num_nodes, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        report(f"lower-star clique, {name} ({data.num_nodes:,} nodes)",
               clique_methods(data.edge_index, data.num_nodes, values), args.repeats)
    images, _ = load_mnist_sample()
    report("cubical, 64 MNIST digits 28x28", cubical_methods(images[:64].double() / 255), args.repeats)
    torch.set_default_dtype(torch.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=["speed", "digits", "nodes", "all"], nargs="?", default="all")
    parser.add_argument("--sizes", default="100,250,500,1000,2000")
    parser.add_argument("--degree", type=float, default=40.0)
    parser.add_argument("--graphs", default="cora,actor")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--train-sizes", default="500,3500")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--node-graphs", default="texas,cornell,wisconsin")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, gudhi {gudhi.__version__}, giotto-ph {WITH_GPH}, "
          f"torch-topological {WITH_TORCH_TOPOLOGICAL}, numpy {np.__version__}")
    if args.experiment in ("speed", "all"):
        speed(args)
    if args.experiment in ("digits", "all"):
        digits(args)
    if args.experiment in ("nodes", "all"):
        nodes(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
