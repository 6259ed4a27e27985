"""Local homology sheaf: construction time and memory vs graph size, and epoch time vs GCN.

Peers, measured in the same process on the same inputs:

* clique complex: :func:`topoequi.topology.clique_complex` (from the raw
  ``edge_index``: cleaning, deduplication, triangles as arrays) vs gudhi
  (``SimplexTree.insert_batch`` of the clean edges + ``expansion(2)``, the
  triangles counted, not read back, which favours gudhi);
* sheaf: the vectorised :func:`local_homology_sheaf` vs the per-simplex
  reference (:func:`harmonic_basis` for every vertex and edge, dense), the
  latter on the small graph only;
* training: one full-batch epoch (forward + backward + Adam step) of the
  sheaf layers vs PyG's ``GCN`` (2 layers, 64 hidden).

Graphs: Texas (183 nodes), Cora (2,708), Actor (7,600 nodes / 26,659 edges)
from ``datasets/``, and a synthetic graph ten times Actor (ten
relabelled copies with 10% of the edges rewired across copies).

    python benchmarks/bench_sheaf.py [--repeats 3] [--epoch-repeats 7] [--skip-large]
"""
from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np
import torch


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def timed(fn, repeats: int) -> tuple[float, float, float]:
    """Median wall and process-CPU seconds over ``repeats`` calls after one warm-up, peak traced MiB."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = clock()
        fn()
        w2, c2 = clock()
        walls.append(w2 - w)
        cpus.append(c2 - c)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(walls), statistics.median(cpus), peak / 2**20


def synthetic(edges: np.ndarray, n: int, copies: int, rewire: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [edges + k * n for k in range(copies)]
    big = np.concatenate(parts)
    move = rng.random(len(big)) < rewire
    big[move, 1] = rng.integers(0, n * copies, int(move.sum()))
    return big


def gudhi_clique(edges: np.ndarray, n: int) -> int:
    import gudhi

    st = gudhi.SimplexTree()
    st.insert_batch(np.arange(n)[None, :], np.zeros(n))
    st.insert_batch(np.sort(edges, 1).T, np.zeros(len(edges)))
    st.expansion(2)
    return st.num_simplices() - n - len(edges)          # triangles, counted without reading them back


def reference_sheaf(cx) -> int:
    from topoequi.topology import harmonic_basis

    simplices = [s for layer in cx.simplices() for s in layer]
    total = 0
    for s in cx.simplices()[0] + cx.simplices()[1]:
        total += sum(b.shape[1] for b in harmonic_basis(simplices, s)[1] if b.size)
    return total


def epoch_times(models: dict, data, repeats: int) -> dict:
    """Median (wall, CPU) seconds of one training step per model; the models take turns."""
    import torch.nn.functional as F

    steps = {}
    for name, model in models.items():
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(data), data.y)
            loss.backward()
            opt.step()

        step()                                                      # warm-up
        steps[name] = step
    times = {name: ([], []) for name in models}
    for _ in range(repeats):
        for name, step in steps.items():
            w, c = clock()
            step()
            w2, c2 = clock()
            times[name][0].append(w2 - w)
            times[name][1].append(c2 - c)
    return {name: (statistics.median(ws), statistics.median(cs)) for name, (ws, cs) in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of every construction timing")
    parser.add_argument("--epoch-repeats", type=int, default=7, help="training steps timed per model")
    parser.add_argument("--stalk-width", type=int, default=4)
    parser.add_argument("--skip-large", action="store_true", help="skip the 10x Actor synthetic graph")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the construction is single-threaded)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from topoequi.datasets.node_classification import load_node_classification
    from topoequi.topology import clique_complex, local_homology_sheaf
    from topoequi.train.sheaf import build_model
    from topoequi.transforms import AddLocalHomologySheaf

    graphs = {}
    for name in ("texas", "cora", "actor"):
        data = load_node_classification(name)
        graphs[name] = (data.edge_index.numpy().T, data.num_nodes, data)
    if not args.skip_large:
        e, n, _ = graphs["actor"]
        graphs["10x actor"] = (synthetic(e, n, 10, 0.1), 10 * n, None)

    print(f"torch threads: {torch.get_num_threads()}, stalk width d = {args.stalk_width}; "
          f"CPU = process CPU seconds, wall in parentheses")
    print(f"\n## Construction (median of {args.repeats}, peak = traced numpy/Python memory)\n")
    print("| graph | nodes | edges | triangles | clique complex CPU s (wall) | gudhi expansion CPU s (wall) "
          "| gudhi / ours (CPU) | sheaf CPU s (wall) | sheaf peak (MiB) | complex + sheaf CPU s (wall) "
          "| per-simplex reference CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    complexes = {}
    for name, (e, n, _) in graphs.items():
        ei = torch.from_numpy(e.T.copy())
        w_cx, c_cx, _ = timed(lambda ei=ei, n=n: clique_complex(ei, n), args.repeats)
        cx = clique_complex(ei, n)
        complexes[name] = cx
        w_gd, c_gd, _ = timed(lambda cx=cx, n=n: gudhi_clique(cx.edges.numpy(), n), args.repeats)
        assert gudhi_clique(cx.edges.numpy(), n) == cx.triangles.size(0)
        w = torch.rand(cx.edges.size(0), generator=torch.Generator().manual_seed(0))
        w_sh, c_sh, peak = timed(lambda cx=cx, n=n, w=w: local_homology_sheaf(
            cx.edges, cx.triangles, n, edge_weight=w, stalk_width=args.stalk_width), args.repeats)
        ref = "-"
        if n < 1000:
            _, c_ref, _ = timed(lambda cx=cx: reference_sheaf(cx), 1)
            sh = local_homology_sheaf(cx.edges, cx.triangles, n)
            assert reference_sheaf(cx) == int(sh.vertex_dims.sum() + sh.edge_dims.sum())
            ref = f"{c_ref:.2f} ({c_ref / c_sh:.0f}x)"
        print(f"| {name} | {n} | {cx.edges.size(0)} | {cx.triangles.size(0)} | {c_cx:.3f} ({w_cx:.3f}) | "
              f"{c_gd:.3f} ({w_gd:.3f}) | {c_gd / c_cx:.2f}x | {c_sh:.3f} ({w_sh:.3f}) | {peak:.0f} | "
              f"{c_cx + c_sh:.3f} ({w_cx + w_sh:.3f}) | {ref} |")

    print(f"\n## One training epoch (forward + backward + Adam), median of {args.epoch_repeats}, "
          "models interleaved\n")
    ns = argparse.Namespace(hidden=16, stalk_width=args.stalk_width, layers=2, dropout=0.5, input_dropout=0.0)
    models = ("gcn", "conv", "attention", "persistent", "nsd")
    print("| graph | " + " | ".join(f"{m} CPU ms (wall)" for m in models) + " | conv / gcn (CPU) "
          "| persistent / gcn (CPU) |")
    print("|---|" + "---|" * (len(models) + 2))
    for name in ("texas", "cora", "actor"):
        raw = graphs[name][2]
        data = complexes[name]
        data.x, data.y = raw.x, raw.y
        data = AddLocalHomologySheaf(stalk_width=args.stalk_width, weight="features")(data)
        torch.manual_seed(0)
        nets = {m: build_model(m, raw.num_features, int(raw.y.max()) + 1, ns) for m in models}
        times = epoch_times(nets, data, args.epoch_repeats)
        cpu = {m: 1000 * times[m][1] for m in models}
        print(f"| {name} | " + " | ".join(f"{cpu[m]:.0f} ({1000 * times[m][0]:.0f})" for m in models) +
              f" | {cpu['conv'] / cpu['gcn']:.1f}x | {cpu['persistent'] / cpu['gcn']:.1f}x |")

if __name__ == "__main__":
    main()
