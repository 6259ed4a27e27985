"""Radius / k-NN graph construction: topoequi's pure-torch search vs dense ``torch.cdist``.

Every measurement runs in its own subprocess, so its peak memory is the rise of
the process's maximum resident set size (``resource.getrusage(...).ru_maxrss``)
over the level reached after imports and input generation; the first (cold)
call is that measurement and also serves as warm-up, then the median process
CPU time (``time.process_time``, robust on a shared machine; with one thread it
is the single-core time) of ``--repeats`` further calls is reported.  The peer,
a dense ``torch.cdist`` distance matrix with exact differences
(``compute_mode="donot_use_mm_for_euclid_dist"``: the default matrix-product
shortcut rounds distances near the cutoff differently), only fits at moderate
sizes, so it is compared at ``--peer-n`` points; topoequi alone runs at ``--n``
(1M by default).

    python benchmarks/bench_graph.py            # defaults: 1M points, peer at 20k
    python benchmarks/bench_graph.py --n 200000 --threads 1
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

DEGREE = 24  # target mean degree of the radius graph
K = 16


def radius_for(n: int) -> float:
    """r with an expected DEGREE neighbours per point of n uniform points in the unit cube."""
    return (DEGREE / (n * 4.0 / 3.0 * math.pi)) ** (1.0 / 3.0)


def exact_cdist(x):
    """All pairwise distances from exact coordinate differences (no matrix-product shortcut)."""
    import torch

    return torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")


def inputs(case: str, n: int):
    import torch

    gen = torch.Generator().manual_seed(0)
    if case == "qm9":  # 128 molecules x 18 atoms, atom spread like QM9's (about 34k edges at 5 A)
        pos = torch.randn(128 * 18, 3, generator=gen) * 1.5
        return pos, torch.arange(128).repeat_interleave(18)
    return torch.rand(n, 3, generator=gen), None


def build(case: str, impl: str, n: int):
    """A zero-argument callable producing the edge index ``[2, E]`` (source, target)."""
    import torch

    from topoequi.graph import knn_graph, radius_graph

    x, batch = inputs(case, n)
    if case == "qm9":
        if impl == "topoequi":
            return lambda: radius_graph(x, 5.0, batch)

        def dense_qm9():
            same = (batch[:, None] == batch[None, :]) & (exact_cdist(x) < 5.0)
            same.fill_diagonal_(False)
            return same.nonzero().t().flip(0)
        return dense_qm9
    if case == "radius":
        r = radius_for(n)
        if impl == "topoequi":
            return lambda: radius_graph(x, r, max_num_neighbors=None)

        def dense_radius():
            near = exact_cdist(x) < r
            near.fill_diagonal_(False)
            return near.nonzero().t().flip(0)
        return dense_radius
    if impl == "topoequi":
        return lambda: knn_graph(x, K)

    def dense_knn():
        d = exact_cdist(x)
        d.fill_diagonal_(float("inf"))
        col = d.topk(K, dim=1, largest=False).indices
        return torch.stack([col.reshape(-1), torch.arange(n).repeat_interleave(K)])
    return dense_knn


def worker(case: str, impl: str, n: int, repeats: int, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    fn = build(case, impl, n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    edges = fn()
    cold = time.process_time() - start
    peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    num = int(edges.max()) + 1 if edges.numel() else 1
    checksum = int((edges[1] * num + edges[0]).sum())  # order-free fingerprint of the edge set
    print(json.dumps({"median_s": statistics.median(times) if times else cold, "cold_s": cold,
                      "peak_mib": peak_mib, "edges": edges.size(1), "checksum": checksum}))


def measure(case: str, impl: str, n: int, repeats: int, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", case, impl, "--n", str(n),
           "--repeats", str(repeats), "--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="points for topoequi alone")
    parser.add_argument("--peer-n", type=int, default=20_000, help="points for the cdist comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.n, args.repeats, args.threads)
        return 0

    print(f"threads={args.threads}  load average at start: {os.getloadavg()[0]:.2f}")
    print(f"{'case':<34}{'impl':<10}{'edges':>10}{'median cpu s':>13}{'peak MiB':>10}")
    plan = [("radius", args.peer_n, args.repeats), ("knn", args.peer_n, args.repeats),
            ("qm9", 0, max(args.repeats, 30))]
    for case, n, repeats in plan:
        pair = {impl: measure(case, impl, n, repeats, args.threads) for impl in ("topoequi", "cdist")}
        label = {"radius": f"radius_graph n={n} r={radius_for(max(n, 1)):.4f}",
                 "knn": f"knn_graph n={n} k={K}",
                 "qm9": "radius_graph 128x18 atoms r=5"}[case]
        for impl, res in pair.items():
            print(f"{label:<34}{impl:<10}{res['edges']:>10}{res['median_s']:>13.4f}"
                  f"{res['peak_mib']:>10.1f}")
        same = pair["topoequi"]["checksum"] == pair["cdist"]["checksum"]
        speed = pair["cdist"]["median_s"] / pair["topoequi"]["median_s"]
        memory = pair["cdist"]["peak_mib"] / max(pair["topoequi"]["peak_mib"], 0.1)
        print(f"{'':<34}ratio     cdist/topoequi time {speed:.1f}x, peak memory {memory:.1f}x, "
              f"same edge set: {same}")
    for case, repeats in (("radius", 2), ("knn", 2)):
        res = measure(case, "topoequi", args.n, repeats, args.threads)
        label = (f"radius_graph n={args.n} r={radius_for(args.n):.4f}" if case == "radius"
                 else f"knn_graph n={args.n} k={K}")
        print(f"{label:<34}{'topoequi':<10}{res['edges']:>10}{res['median_s']:>13.4f}"
              f"{res['peak_mib']:>10.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
