r"""Steerable point convolutions on a QM9 batch: topoequi against escnn and e3nn.

One layer, forward + backward (loss = sum of squared outputs), float32, ``--threads`` (2),
on real molecules: 128 QM9 molecules of 18 atoms from the embedded sample
(``topoequi.datasets.QM9(source="sample")``), edges within 5 A
(``topoequi.graph.radius_graph``, at most 64 neighbours), fields
``16x0e + 8x1o`` (16 scalars + 8 vectors of O(3)) in and out, seeded random
features that require grad (as for a hidden layer).

Models (same fields, cutoff 5 A):

- ``implicit``: ``topoequi.nn.ImplicitSteerableConv(rep, rep, cutoff=5.0)``
- ``steerable``: ``topoequi.nn.SteerableConv(rep, rep, cutoff=5.0)``
- ``escnn``: ``escnn.nn.R3PointConv`` on ``flipRot3dOnR3`` (O(3)), 16 trivial + 8
  ``irrep(1, 1)`` fields, rings every 1 A up to 5 A (``width=5``, ``n_rings=6``,
  escnn's default ``sigma``: 0.6 A, 0.4 A on the outer ring), escnn's default
  frequency cut-off (3 per A) capped at l=2 (same basis, 3x faster), ``bias=True``.
- ``e3nn``: an edge-conditioned tensor-product convolution in the style of e3nn's
  point-convolution example: spherical harmonics up to l=2 of the edge vectors, a
  radial MLP (10 ``soft_one_hot_linspace`` "smooth_finite" functions with cut-off
  -> 64 SiLU -> per-edge weights) of a ``"uvu"`` ``o3.TensorProduct``, sum over edges
  (``index_add_``), an output ``o3.Linear`` and a self-interaction ``o3.Linear``.

Time: all models are built in one process and timed round-robin (one step of each
per round, so the load of a shared machine drifts over all alike): 2 warm-up rounds,
then the median of ``--repeats``; molecules/s = batch size / median seconds.
Memory: each model again in a fresh interpreter (``--worker NAME``): the resident
high-water mark ``VmHWM`` (reset through ``/proc/self/clear_refs``) over building the
model and 2 steps minus the resident set after imports and data (``ru_maxrss`` over
its earlier high-water mark where the reset is unavailable), and over the 2 steps
alone minus the resident set after building. The equivariance error is measured
there on 4 molecules with ``topoequi.testing.equivariance_error`` (4 random O(3)
elements, 2 improper, plus translations) on a copy of the model built with float64
as the default dtype (e3nn built in float32 and cast keeps float32-rounded
Clebsch-Gordan constants: error ~2e-8; escnn cannot be built in float64 and is cast).

Run: ``nice .venv/bin/python benchmarks/bench_conv.py`` (about a minute);
``--only implicit escnn`` selects models, ``--repeats``, ``--batch-size``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch
from torch import Tensor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing

IRREPS = "16x0e+8x1o"
CUTOFF = 5.0
MAX_NUM_NEIGHBORS = 64
NUM_ATOMS = 18
EQUIVARIANCE_MOLECULES = 4
MODELS = {
    "implicit": "ImplicitSteerableConv",
    "steerable": "SteerableConv",
    "escnn": "escnn R3PointConv",
    "e3nn": "e3nn TP conv (uvu, l<=2)",
}
PEERS = ("escnn", "e3nn")
RESULT_TAG = "RESULT "


# -- data ----------------------------------------------------------------------------
def qm9_batch(batch_size: int, num_atoms: int = NUM_ATOMS) -> dict:
    """``batch_size`` QM9 molecules of ``num_atoms`` atoms (the closest sizes if too few), radius graph."""
    from topoequi.datasets import QM9
    from topoequi.graph import radius_graph

    dataset = QM9(source="sample", progress=False)
    counts = torch.diff(dataset.slices["z"])
    if batch_size > len(counts):
        raise ValueError(f"bench_conv: --batch-size must be at most {len(counts)}, got {batch_size}")
    order = torch.argsort((counts - num_atoms).abs(), stable=True)  # exact size first, in QM9 order
    chosen = order[:batch_size].sort().values
    molecules = [dataset[int(i)] for i in chosen]
    pos = torch.cat([m.pos for m in molecules]).float()
    sizes = torch.tensor([m.num_nodes for m in molecules])
    batch = torch.repeat_interleave(torch.arange(batch_size), sizes)
    edge_index = radius_graph(pos, r=CUTOFF, batch=batch, max_num_neighbors=MAX_NUM_NEIGHBORS)
    return {"pos": pos, "batch": batch, "edge_index": edge_index, "sizes": sizes,
            "qm9_idx": [int(m.idx) for m in molecules]}


def first_molecules(data: dict, count: int) -> tuple[Tensor, Tensor]:
    """Positions and edges of the first ``count`` molecules of the batch."""
    n = int(data["sizes"][:count].sum())
    keep = (data["edge_index"] < n).all(0)
    return data["pos"][:n], data["edge_index"][:, keep]


# -- peers ---------------------------------------------------------------------------
def escnn_frequency_cutoff(radius: float) -> float:
    """escnn's default band limit (3 per A) capped at 2, the highest harmonic ``16x0e+8x1o`` uses.

    The basis is the same as with the default (3,520 weights), but escnn samples every
    harmonic up to the largest cut-off on every edge: uncapped (15 at 5 A) it is ~3x slower.
    """
    return min(3.0 * radius, 2.0)


class EscnnPointConv(torch.nn.Module):
    """escnn's ``R3PointConv`` with the ``forward(x, pos, edge_index)`` of the topoequi layers."""

    def __init__(self, num_scalars: int = 16, num_vectors: int = 8) -> None:
        super().__init__()
        from escnn import gspaces
        from escnn import nn as enn

        gspace = gspaces.flipRot3dOnR3()
        fields = [gspace.trivial_repr] * num_scalars + [gspace.fibergroup.irrep(1, 1)] * num_vectors
        self.in_type = enn.FieldType(gspace, fields)
        self.out_type = enn.FieldType(gspace, fields)
        self.conv = enn.R3PointConv(self.in_type, self.out_type, width=CUTOFF, n_rings=6,
                                    frequencies_cutoff=escnn_frequency_cutoff, bias=True)

    def forward(self, x: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        from escnn.nn import GeometricTensor

        return self.conv(GeometricTensor(x, self.in_type, coords=pos), edge_index).tensor


class E3nnPointConv(torch.nn.Module):
    r"""An e3nn edge-conditioned convolution (e3nn's point-convolution example, no node attributes).

    .. math::
        x'_i = W_{\mathrm{self}} x_i + W_{\mathrm{out}} \frac{1}{\sqrt{\bar n}} \sum_{j \in \mathcal{N}(i)}
        (W_{\mathrm{in}} x_j) \otimes_{\mathrm{uvu}}^{\mathrm{MLP}(\lVert r_{ij} \rVert)} Y(\hat r_{ij})
    """

    def __init__(self, irreps: str = IRREPS, lmax: int = 2, num_basis: int = 10, hidden: int = 64,
                 num_neighbors: float = 15.0) -> None:
        super().__init__()
        from e3nn import o3
        from e3nn.nn import FullyConnectedNet

        self.irreps = o3.Irreps(irreps)
        self.irreps_sh = o3.Irreps.spherical_harmonics(lmax)
        self.num_basis = num_basis
        self.num_neighbors = num_neighbors
        mid, instructions = [], []
        for i, (mul, ir_in) in enumerate(self.irreps):
            for j, (_, ir_edge) in enumerate(self.irreps_sh):
                for ir_out in ir_in * ir_edge:
                    if ir_out in self.irreps:
                        instructions.append((i, j, len(mid), "uvu", True))
                        mid.append((mul, ir_out))
        irreps_mid, perm, _ = o3.Irreps(mid).sort()
        instructions = [(i, j, perm[k], mode, train) for i, j, k, mode, train in instructions]
        self.lin_in = o3.Linear(self.irreps, self.irreps)
        self.tp = o3.TensorProduct(self.irreps, self.irreps_sh, irreps_mid, instructions,
                                   internal_weights=False, shared_weights=False)
        self.radial = FullyConnectedNet([num_basis, hidden, self.tp.weight_numel], torch.nn.functional.silu)
        self.lin_out = o3.Linear(irreps_mid.simplify(), self.irreps, biases=True)
        self.self_interaction = o3.Linear(self.irreps, self.irreps)

    def forward(self, x: Tensor, pos: Tensor, edge_index: Tensor) -> Tensor:
        from e3nn import o3
        from e3nn.math import soft_one_hot_linspace

        src, dst = edge_index
        vec = pos[src] - pos[dst]
        sh = o3.spherical_harmonics(self.irreps_sh, vec, normalize=True, normalization="component")
        basis = soft_one_hot_linspace(vec.norm(dim=1), 0.0, CUTOFF, self.num_basis, basis="smooth_finite",
                                      cutoff=True)
        messages = self.tp(self.lin_in(x)[src], sh, self.radial(basis * self.num_basis**0.5))
        summed = messages.new_zeros(x.shape[0], messages.shape[1]).index_add_(0, dst, messages)
        return self.self_interaction(x) + self.lin_out(summed / self.num_neighbors**0.5)


# -- models --------------------------------------------------------------------------
def model_factory(name: str):
    """Import what ``name`` needs (raises ``ImportError`` when it is not there) and return a builder."""
    if name in ("implicit", "steerable"):
        import topoequi.nn as tnn

        cls = getattr(tnn, MODELS[name], None)
        if cls is None:
            raise ImportError(f"topoequi.nn has no {MODELS[name]}")
        from topoequi.symmetry import Rep

        rep = Rep.from_e3nn(IRREPS)
        return (lambda: cls(rep, rep, cutoff=CUTOFF)), (lambda model: rep)
    if name == "escnn":
        import escnn.nn  # noqa: F401

        from topoequi.symmetry import O3, from_escnn
        return EscnnPointConv, (lambda model: from_escnn(model.in_type, O3()))
    if name == "e3nn":
        import e3nn.o3  # noqa: F401

        from topoequi.symmetry import Rep
        return E3nnPointConv, (lambda model: Rep.from_e3nn(IRREPS))
    raise ValueError(f"bench_conv: unknown model {name!r}; choose from {sorted(MODELS)}")


def random_features(num_nodes: int, dim: int = 40, seed: int = 0) -> Tensor:
    """Seeded float32 node features that require grad (the layer sits inside a network)."""
    return torch.randn(num_nodes, dim, generator=torch.Generator().manual_seed(seed)).requires_grad_(True)


def training_step(model: torch.nn.Module, x: Tensor, pos: Tensor, edge_index: Tensor):
    """One forward + backward of ``model`` with the loss ``sum(out ** 2)``."""
    def step() -> None:
        model.zero_grad(set_to_none=True)
        x.grad = None
        model(x, pos, edge_index).pow(2).sum().backward()
    return step


def time_models(names: list[str], batch_size: int, repeats: int, threads: int,
                cpu_time: bool) -> tuple[dict, dict, dict]:
    """Build ``names`` in this process and time them round-robin; returns timings, skips, data."""
    torch.set_num_threads(threads)
    builders, skipped = {}, {}
    for name in names:
        try:
            builders[name] = model_factory(name)[0]
        except ImportError as exc:
            skipped[name] = f"cannot import: {exc}"
    data = qm9_batch(batch_size)
    x = random_features(data["pos"].shape[0])
    steps, params, build_s = {}, {}, {}
    for name, build in builders.items():
        torch.manual_seed(0)
        start = time.perf_counter()
        model = build()
        build_s[name] = time.perf_counter() - start
        params[name] = sum(p.numel() for p in model.parameters() if p.requires_grad)
        steps[name] = training_step(model, x, data["pos"], data["edge_index"])
    timings = _timing.time_interleaved(steps, repeats=repeats, warmup=2,
                                       clock=time.process_time if cpu_time else time.perf_counter)
    results = {name: {"name": name, "seconds": t.seconds, "median_s": t.median,
                      "molecules_per_s": batch_size / t.median, "params": params[name],
                      "build_s": build_s[name]} for name, t in timings.items()}
    return results, skipped, data


def measure_memory(name: str, batch_size: int, threads: int) -> dict:
    """Peak memory of building ``name`` and of forward + backward, and its equivariance error
    (meant to run in a fresh interpreter: ``--worker NAME``)."""
    from topoequi.testing import equivariance_error

    torch.set_num_threads(threads)
    build, rep_of = model_factory(name)
    data = qm9_batch(batch_size)
    pos, edge_index = data["pos"], data["edge_index"]
    x = random_features(pos.shape[0])

    base_max, base_rss = _timing.max_rss_mib(), _timing.rss_mib()
    clear_refs = _timing.reset_peak_rss()
    torch.manual_seed(0)
    model = build()
    build_peak, built_rss = _timing.peak_rss_since_reset_mib(), _timing.rss_mib()
    _timing.reset_peak_rss()
    step = training_step(model, x, pos, edge_index)
    for _ in range(2):  # the second step also holds the first step's gradients until zero_grad
        step()
    if clear_refs:
        step_peak = _timing.peak_rss_since_reset_mib()
        peak_total, peak_step = max(build_peak, step_peak) - base_rss, step_peak - built_rss
    else:  # no resettable high-water mark: ru_maxrss over the baseline's high-water mark
        peak_total, peak_step = _timing.max_rss_mib() - base_max, None

    model64, built_in = model, "float32, cast"
    torch.set_default_dtype(torch.float64)  # constants (Clebsch-Gordan, bases) computed in float64
    try:
        torch.manual_seed(0)
        model64, built_in = build(), "float64"
    except RuntimeError:  # escnn hard-codes float32 buffers: test the cast float32 model
        pass
    finally:
        torch.set_default_dtype(torch.float32)
    sub_pos, sub_edges = first_molecules(data, EQUIVARIANCE_MOLECULES)
    rep = rep_of(model64)
    sub_x = torch.randn(sub_pos.shape[0], rep.dim, generator=torch.Generator().manual_seed(1))
    error = equivariance_error(model64, [sub_x, sub_pos, sub_edges], [rep, "pos", None], rep,
                               n_elements=4)[0]
    return {"name": name, "peak_total_mib": peak_total, "peak_step_mib": peak_step,
            "equivariance_error": error, "equivariance_built_in": built_in}


def run_isolated(name: str, batch_size: int, threads: int) -> dict:
    """:func:`measure_memory` of ``name`` in a fresh interpreter."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--batch-size", str(batch_size),
           "--threads", str(threads)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"name": name, "failed": f"exit {proc.returncode}: {tail}"}


# -- report --------------------------------------------------------------------------
def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or not b else f"{a / b:.2f}x"


def print_table(results: dict, skipped: dict, data: dict, args: argparse.Namespace,
                load: tuple[float, float]) -> None:
    for name, why in skipped.items():
        print(f"skipped {name} ({MODELS[name]}): {why}")
    if not results:
        return
    print(f"batch: {args.batch_size} QM9 molecules (embedded sample) of "
          f"{'/'.join(map(str, sorted(set(data['sizes'].tolist()))))} atoms, {data['pos'].shape[0]} atoms, "
          f"{data['edge_index'].shape[1]} edges within {CUTOFF} A (at most {MAX_NUM_NEIGHBORS} "
          f"neighbours); fields {IRREPS} in and out; float32, {args.threads} thread(s)")
    print(f"time ({'process CPU time' if args.cpu_time else 'wall'}): forward + backward of sum(out**2), "
          f"all models in one process round-robin, warm-up 2, "
          f"median of {args.repeats}; 1-min load average {load[0]:.1f} before, {load[1]:.1f} after")
    print("memory (fresh process per model, resident set from /proc/self/status, high-water mark reset "
          "with clear_refs): 'peak' = VmHWM over build + 2 steps minus VmRSS after imports + data; "
          "'fwd/bwd' = VmHWM over the 2 steps minus VmRSS after build")
    header = (f"{'model':<26} {'params':>7} {'ms/iter':>8} {'mol/s':>7} {'/escnn':>7} {'/e3nn':>7} "
              f"{'peak MiB':>8} {'fwd/bwd':>8} {'mem/escnn':>9} {'mem/e3nn':>8} {'equiv err':>9}")
    print(header)
    print("-" * len(header))
    peers = {name: results.get(name) for name in PEERS}
    for name, r in results.items():
        row = [f"{MODELS[name]:<26}", f"{r['params']:>7d}", f"{1e3 * r['median_s']:>8.0f}",
               f"{r['molecules_per_s']:>7.1f}"]
        for peer in PEERS:
            p = peers[peer]
            row.append(f"{ratio(r['molecules_per_s'], p and p['molecules_per_s']):>7}")
        if "failed" in r:
            row.append(f"memory/equivariance run failed: {r['failed']}")
        else:
            step = r["peak_step_mib"]
            row += [f"{r['peak_total_mib']:>8.0f}", f"{'-' if step is None else f'{step:.0f}':>8}"]
            for peer, width in zip(PEERS, (9, 8)):
                p = peers[peer]
                row.append(f"{ratio(r['peak_total_mib'], p and p.get('peak_total_mib')):>{width}}")
            err = r["equivariance_error"]
            row.append(f"{err:>9.1e}" if math.isfinite(err) else f"{'nan':>9}")
        print(" ".join(row))
    print("ratios: throughput ours/peer (higher is better), peak memory ours/peer (lower is better); "
          f"equivariance error: max |f(g.x) - g.f(x)| in float64 on {EQUIVARIANCE_MOLECULES} molecules, "
          "4 elements of O(3) (2 improper) + translations")
    casts = [MODELS[n] for n, r in results.items() if r.get("equivariance_built_in") == "float32, cast"]
    if casts:
        print(f"  built in float32 and cast to float64 (cannot be built in float64): {', '.join(casts)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), default=list(MODELS),
                        help="models to measure (default: all)")
    parser.add_argument("--repeats", type=int, default=5, help="timed iterations (default: 5)")
    parser.add_argument("--batch-size", type=int, default=128, help="molecules (default: 128)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by process CPU time instead of wall time (robust on a shared machine)")
    parser.add_argument("--worker", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.batch_size < EQUIVARIANCE_MOLECULES:
        parser.error(f"--batch-size must be >= {EQUIVARIANCE_MOLECULES}, got {args.batch_size}")
    if args.worker:
        print(RESULT_TAG + json.dumps(measure_memory(args.worker, args.batch_size, args.threads)), flush=True)
        return 0
    names = [name for name in MODELS if name in args.only]
    load_before = os.getloadavg()[0]
    results, skipped, data = time_models(names, args.batch_size, args.repeats, args.threads, args.cpu_time)
    load_after = os.getloadavg()[0]
    for name, r in results.items():
        print(f"  {MODELS[name]}: {r['molecules_per_s']:.1f} mol/s; measuring memory ...", flush=True)
        r.update(run_isolated(name, args.batch_size, args.threads))
    print_table(results, skipped, data, args, (load_before, load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
