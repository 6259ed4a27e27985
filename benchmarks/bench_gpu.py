"""Layers, training steps and time-to-accuracy on one device: topoequi beside e3nn, SchNet and DimeNet++.

Four parts, all on ``--device`` (``auto``: the first GPU, else the CPU), in one process:

(e) equivariance on the device, float64: :math:`\\max_{g,t} |f(g \\cdot x) - g \\cdot f(x)|`
    (:func:`topoequi.testing.equivariance_error`, O(3) elements, half of them improper, and translations) of
    part (a)'s two topoequi layers on a QM9 batch of 32 molecules and of the default QM9 model
    (``SteerableMoleculeNet``, implicit; invariant output), target below 1e-12; where Triton runs (CUDA, or its
    CPU interpreter with ``TRITON_INTERPRET=1``) the layers again with ``TOPOEQUI_TRITON=1``, and the Triton
    aggregation against the torch one on the same layer: the largest absolute difference of the output and of
    the gradients of ``sum(out ** 2)`` (features, positions, parameters), in float32 and float64 (relative to the
    largest value: targets 1e-5 and 1e-12); the exit status is 1 when a target is missed or a Triton path raised
    (its row then says why under ``failed``);

then, in float32:

(a) one convolution layer ``16x0e+8x1o`` (forward + backward, loss ``sum(out ** 2)``) on the QM9
    batches of ``bench_conv.py`` (molecules of 18 atoms, edges within 5 A, at most 64 neighbours)
    of 128 and 1,024 molecules: ImplicitSteerableConv, SteerableConv and bench_conv's e3nn
    tensor-product convolution; median time of ``--repeats`` after 3 warm-up steps (synchronised
    on CUDA) and peak device memory;
(b) one AdamW training step of the QM9 models (``topoequi train qm9``'s defaults: implicit,
    steerable, schnet, dimenet++) at batch 128: molecules/s with the batch already on the device,
    and with the data path, PyG's ``DataLoader`` (collation on the CPU + copy) or
    :class:`topoequi.loader.DeviceLoader` (dataset on the device, batches gathered there); for implicit
    and steerable also the step on batches padded to a fixed budget (``DeviceLoader, padded``: radius
    graph, padding and step, eager) and, on CUDA, that step captured as a CUDA graph and replayed
    (``DeviceLoader, CUDA graph``: :class:`topoequi.train.cuda_graph.GraphedStep`, timed after its
    warm-up and capture; ``capture_failed`` says why when it could not be captured);
(c) time-to-accuracy on QM9 HOMO (``--qm9 PATH``: a packed ``.npz`` such as the full set; by default the
    full set when the ``qm9`` extra is installed, else the embedded sample): each model trains for the same
    wall-clock ``--budget`` (AdamW, learning rate 5e-4 on a cosine over the budget, batch 128 through the
    DeviceLoader), then its validation and test MAE in meV.

``--small`` shrinks every size (4 molecules and 4 elements in part (e), batches of 8 and 32 molecules, 2
repeats, 3 s budgets on a 600-molecule subset) so that the script runs in seconds on a CPU, as the test suite
does. ``benchmarks/gpu_checks.sh`` runs every part on a GPU in one command.

    python benchmarks/bench_gpu.py [--device cuda] [--parts eabc] [--budget 90] [--qm9 FILE.npz] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from contextlib import contextmanager
from functools import partial

import torch
from torch import Tensor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_conv

QM9_MODELS = ("implicit", "steerable", "schnet", "dimenet++")
TRITON_FLAG = "TOPOEQUI_TRITON"
EQUIVARIANCE_TARGET = 1e-12
"""Part (e): the float64 equivariance error to stay below."""
TRITON_TARGET = {torch.float32: 1e-5, torch.float64: 1e-12}
"""Part (e): the Triton aggregation's largest difference from torch's, relative to the largest value."""


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step, device: torch.device, repeats: int, warmup: int = 3) -> tuple[float, float | None]:
    """Median seconds of ``step()`` and the peak device memory (MiB) over the timed calls."""
    for _ in range(warmup):
        step()
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return statistics.median(times), peak


def conv_layers(device: torch.device, sizes: tuple[int, ...], repeats: int) -> list[dict]:
    """Part (a): one layer, forward + backward, per model and batch size."""
    rows = []
    for size in sizes:
        data = bench_conv.qm9_batch(size)
        pos, edge_index = data["pos"].to(device), data["edge_index"].to(device)
        x = bench_conv.random_features(pos.shape[0]).detach().to(device).requires_grad_(True)
        for name in ("implicit", "steerable", "e3nn"):
            try:
                build = bench_conv.model_factory(name)[0]
            except ImportError as exc:
                rows.append({"part": "a", "model": name, "molecules": size, "skipped": str(exc)})
                continue
            torch.manual_seed(0)
            seconds, peak = timed(bench_conv.training_step(build().to(device), x, pos, edge_index), device, repeats)
            rows.append({"part": "a", "model": name, "molecules": size, "edges": int(edge_index.shape[1]),
                         "ms": 1000 * seconds, "peak_mib": peak})
    return rows


def qm9_data(small: bool, source: str = "auto"):
    """QM9 HOMO: ``source`` as :class:`topoequi.datasets.QM9` takes it (``"auto"``, or a packed ``.npz``)."""
    from topoequi.train import qm9

    dataset, split, stats = qm9.load_data("homo", source=source, subset=600 if small else None, progress=False)
    return dataset, split, stats


def training_steps(device: torch.device, data, batch_size: int, repeats: int) -> list[dict]:
    """Part (b): molecules/s of one AdamW step, without and with each data path."""
    from torch.utils.data import Subset
    from torch_geometric.loader import DataLoader

    from topoequi.loader import DeviceLoader
    from topoequi.train import qm9

    dataset, split, stats = data
    train = Subset(dataset, split["train"].tolist())
    on_device = DeviceLoader(train, device)
    order = list(range(batch_size))
    host_loader = DataLoader(Subset(train, order), batch_size=batch_size)
    loss_fn, _ = qm9.objectives(stats)
    rows = []
    for name in QM9_MODELS:
        torch.manual_seed(0)
        model = qm9.build_model(name, {}, stats).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)

        resident = on_device.batch(order)
        paths = {"batch on the device": partial(lambda b: b, resident),
                 "DataLoader": partial(lambda: next(iter(host_loader)).to(device, non_blocking=True)),
                 "DeviceLoader": partial(on_device.batch, order)}
        for path, make_batch in paths.items():
            seconds, peak = timed(partial(step_on_new_batch, model, optimizer, loss_fn, make_batch), device, repeats)
            rows.append({"part": "b", "model": name, "data": path, "batch": batch_size,
                         "molecules_per_s": batch_size / seconds, "peak_mib": peak})
        if name in ("implicit", "steerable"):
            make_batch = partial(on_device.batch, order)
            rows += padded_steps(name, model, optimizer, loss_fn, make_batch, train, device, repeats)
    return rows


def padded_steps(name: str, model, optimizer, loss_fn, make_batch, train, device: torch.device,
                 repeats: int) -> list[dict]:
    """Part (b), padded rows: the step on batches padded to a budget for the training set, eager and (on
    CUDA) captured as a CUDA graph."""
    from topoequi.loader.static_shapes import choose_budget
    from topoequi.train.cuda_graph import GraphedStep
    from topoequi.train.static_step import molecule_sizes

    sizes = molecule_sizes(train, model.cutoff, model.max_num_neighbors)
    batch_size = make_batch().num_graphs
    budget = choose_budget(*sizes, batch_size=batch_size, max_degree=model.max_num_neighbors)
    rows = []
    for path, capture in (("DeviceLoader, padded", False), ("DeviceLoader, CUDA graph", True)):
        if capture and device.type != "cuda":
            continue
        step = GraphedStep(model, optimizer, loss_fn, budget, capture=capture)
        seconds, peak = timed(lambda step=step: step(make_batch()), device, repeats, warmup=5)
        rows.append({"part": "b", "model": name, "data": path, "batch": batch_size,
                     "molecules_per_s": batch_size / seconds, "peak_mib": peak, "budget_atoms": budget.atoms,
                     "budget_edges": budget.edges, "replays": step.replays, "capture_failed": step.failed})
    return rows


def adamw_step(model, optimizer, loss_fn, batch) -> None:
    """One AdamW step on ``batch``."""
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model(batch), batch).mean().backward()
    optimizer.step()


def step_on_new_batch(model, optimizer, loss_fn, make_batch) -> None:
    """One AdamW step on the batch ``make_batch()`` builds (the time includes building it)."""
    adamw_step(model, optimizer, loss_fn, make_batch())


def time_to_accuracy(device: torch.device, data, batch_size: int, budget: float) -> list[dict]:
    """Part (c): the same wall-clock budget per model; validation and test MAE (meV) at its end."""
    from torch.utils.data import Subset

    from topoequi.loader import DeviceLoader
    from topoequi.train import qm9

    dataset, split, stats = data
    loss_fn, metrics_fn = qm9.objectives(stats)
    loaders = {k: DeviceLoader(Subset(dataset, split[k].tolist()), device) for k in ("train", "valid", "test")}
    rows = []
    for name in ("implicit", "schnet", "dimenet++"):
        torch.manual_seed(0)
        model = qm9.build_model(name, {}, stats).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
        generator = torch.Generator().manual_seed(0)
        steps, seen, start = 0, 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < budget:
            order = torch.randperm(len(loaders["train"]), generator=generator)
            for batch in loaders["train"].batches(order, batch_size):
                for group in optimizer.param_groups:
                    group["lr"] = 5e-4 * 0.5 * (1 + math.cos(math.pi * min(elapsed / budget, 1.0)))
                adamw_step(model, optimizer, loss_fn, batch)
                steps, seen = steps + 1, seen + batch.num_graphs
                if steps % 10 == 0:
                    synchronize(device)
                    if (elapsed := time.perf_counter() - start) >= budget:
                        break
        synchronize(device)
        maes = {k: mae(model, loaders[k], metrics_fn, batch_size) for k in ("valid", "test")}
        rows.append({"part": "c", "model": name, "budget_s": budget, "steps": steps, "molecules_seen": seen,
                     "valid_mae_meV": maes["valid"], "test_mae_meV": maes["test"],
                     "train_size": len(loaders["train"])})
    return rows


@contextmanager
def default_dtype(dtype: torch.dtype):
    """Build under ``dtype`` as the default (constants such as bases computed in it), then restore."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@contextmanager
def triton_aggregation(on: bool):
    """``TOPOEQUI_TRITON`` set to ``1`` or ``0`` inside the block, restored after (``aggregate()`` reads it at
    every call, so the switch takes effect at once)."""
    previous = os.environ.get(TRITON_FLAG)
    os.environ[TRITON_FLAG] = "1" if on else "0"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[TRITON_FLAG]
        else:
            os.environ[TRITON_FLAG] = previous


def triton_runs_on(device: torch.device) -> bool:
    """Whether the Triton aggregation can run here: Triton importable, and CUDA (or Triton's CPU interpreter)."""
    from topoequi.kernels import outer_aggregate_triton

    interpreted = os.environ.get("TRITON_INTERPRET", "0") == "1"
    return outer_aggregate_triton.available() and (device.type == "cuda" or interpreted)


def conv_inputs(molecules: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    """Features, positions and edges of ``molecules`` QM9 molecules (part a's batch), on ``device``."""
    data = bench_conv.qm9_batch(molecules)
    pos, edge_index = data["pos"].to(device, dtype), data["edge_index"].to(device)
    x = bench_conv.random_features(pos.shape[0]).detach().to(device, dtype)
    return x, pos, edge_index


def equivariance_rows(device: torch.device, molecules: int, elements: int) -> list[dict]:
    r"""Part (e), equivariance: :math:`\max_{g, t} |f(g \cdot x) - g \cdot f(x)|` in float64 on ``device`` for
    ``elements`` O(3) elements (half improper) and translations, for the two convolutions (torch aggregation, and
    Triton's where it runs) and the default QM9 model (invariant output: :math:`|f(gx + t) - f(x)|`)."""
    from torch_geometric.data import Batch

    from topoequi.datasets import QM9
    from topoequi.testing import equivariance_error
    from topoequi.train import qm9

    x, pos, edge_index = conv_inputs(molecules, device, torch.float64)
    aggregations = ("torch", "triton") if triton_runs_on(device) else ("torch",)
    rows = []
    for name in ("implicit", "steerable"):
        build, rep_of = bench_conv.model_factory(name)
        with default_dtype(torch.float64):
            torch.manual_seed(0)
            model = build().to(device)
        rep = rep_of(model)
        for aggregation in aggregations:
            try:
                with triton_aggregation(aggregation == "triton"), torch.no_grad():
                    scale = float(model(x, pos, edge_index).abs().max())
                    error = equivariance_error(model, [x, pos, edge_index], [rep, "pos", None], rep,
                                               n_elements=elements)[0]
            except Exception as exc:  # a failing Triton kernel is a result here, not the end of the run
                if aggregation == "torch":
                    raise
                rows.append(failed_row("equivariance", name, exc))
                continue
            rows.append(equivariance_row(name, aggregation, molecules, elements, rep.group, error, scale))

    dataset = QM9(source="sample", subset=molecules, progress=False)
    batch = Batch.from_data_list([dataset[i] for i in range(molecules)]).to(device)
    batch.pos = batch.pos.double()
    with default_dtype(torch.float64):
        torch.manual_seed(0)
        net = qm9.build_model("implicit", {}, None).to(device).eval()

    def predict(moved: Tensor) -> Tensor:
        moved_batch = batch.clone()
        moved_batch.pos = moved
        return net(moved_batch)

    with torch.no_grad():
        scale = float(predict(batch.pos).abs().max())
        error = equivariance_error(predict, [batch.pos], ["pos"], None, group=net.group, n_elements=elements)[0]
    rows.append(equivariance_row("SteerableMoleculeNet (implicit)", "torch", molecules, elements, net.group, error,
                                 scale))
    return rows


def equivariance_row(model: str, aggregation: str, molecules: int, elements: int, group, error: float,
                     scale: float) -> dict:
    return {"part": "e", "check": "equivariance", "model": model, "aggregation": aggregation, "dtype": "float64",
            "molecules": molecules, "elements": elements, "group": str(group), "reflections": group.has_reflections,
            "max_error": error, "output_scale": scale, "target": EQUIVARIANCE_TARGET,
            "met": error < EQUIVARIANCE_TARGET}


def failed_row(check: str, model: str, exc: Exception) -> dict:
    return {"part": "e", "check": check, "model": model, "aggregation": "triton", "met": False,
            "failed": f"{type(exc).__name__}: {exc}"}


def triton_rows(device: torch.device, molecules: int) -> list[dict]:
    """Part (e), Triton against torch: the same layer, inputs and loss ``sum(out ** 2)`` with each aggregation;
    the largest absolute difference of the output and of the gradients (features, positions, parameters), and
    the largest absolute value of each (the scale), in float32 and float64; ``met``: every difference is below
    :data:`TRITON_TARGET` times its scale."""
    from topoequi.kernels import outer_aggregate_triton

    rows = []
    for dtype in (torch.float32, torch.float64):
        x, pos, edge_index = conv_inputs(molecules, device, dtype)
        for name in ("implicit", "steerable"):
            build = bench_conv.model_factory(name)[0]
            with default_dtype(dtype):
                torch.manual_seed(0)
                model = build().to(device)
            results = {}
            for aggregation in ("torch", "triton"):
                with triton_aggregation(aggregation == "triton"):
                    used = outer_aggregate_triton.enabled(x)
                    try:
                        results[aggregation] = forward_and_gradients(model, x, pos, edge_index)
                    except Exception as exc:  # as in equivariance_rows
                        if aggregation == "torch":
                            raise
                        rows.append(failed_row("triton vs torch", name, exc))
                if used != (aggregation == "triton"):
                    raise RuntimeError(f"part e: the {aggregation} aggregation did not run (Triton enabled: {used})")
            if "triton" not in results:
                continue
            row = {"part": "e", "check": "triton vs torch", "model": name, "dtype": str(dtype).removeprefix("torch."),
                   "molecules": molecules, "edges": int(edge_index.shape[1])}
            for key, reference in results["torch"].items():
                row[f"{key}_max_abs_diff"] = float((results["triton"][key] - reference).abs().max())
                row[f"{key}_scale"] = float(reference.abs().max())
            relative = max(row[f"{key}_max_abs_diff"] / row[f"{key}_scale"] for key in results["torch"])
            target = TRITON_TARGET[dtype]
            rows.append({**row, "max_relative_diff": relative, "target": target, "met": relative < target})
    return rows


def forward_and_gradients(model, x: Tensor, pos: Tensor, edge_index: Tensor) -> dict[str, Tensor]:
    """The output of ``model`` and the gradients of ``sum(out ** 2)`` w.r.t. features, positions, parameters."""
    x, pos = x.detach().requires_grad_(True), pos.detach().requires_grad_(True)
    params = [p for p in model.parameters() if p.requires_grad]
    out = model(x, pos, edge_index)
    grads = torch.autograd.grad((out ** 2).sum(), [x, pos, *params])
    return {"forward": out.detach(), "grad_x": grads[0], "grad_pos": grads[1],
            "grad_params": torch.cat([g.reshape(-1) for g in grads[2:]])}


@torch.no_grad()
def mae(model, loader, metrics_fn, batch_size: int) -> float:
    model.eval()
    total = sum(metrics_fn(model(b), b)["mae"].sum() for b in loader.batches(range(len(loader)), batch_size))
    model.train()
    return float(total) / len(loader)


def main(argv: list[str] | None = None) -> int:
    from topoequi.train.device import resolve_device

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--small", action="store_true", help="tiny sizes: runs in seconds on a CPU")
    parser.add_argument("--budget", type=float, default=None, help="seconds per model in part (c)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--parts", default="eabc", help="which parts to run")
    parser.add_argument("--qm9", default="auto", metavar="PATH",
                        help="QM9 of parts (b) and (c): a packed .npz (e.g. the full set), else 'auto'")
    parser.add_argument("--out", default=None, help="folder for results.json")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    repeats = args.repeats or (2 if args.small else 20)
    budget = args.budget or (3.0 if args.small else 90.0)
    batch = 16 if args.small else 128
    rows, data = [], None
    if "e" in args.parts:
        molecules = 4 if args.small else 32
        rows += equivariance_rows(device, molecules, elements=4 if args.small else 8)
        if triton_runs_on(device):
            rows += triton_rows(device, molecules)
    if "a" in args.parts:
        rows += conv_layers(device, (8, 32) if args.small else (128, 1024), repeats)
    if "b" in args.parts or "c" in args.parts:
        data = qm9_data(args.small, args.qm9)
    if "b" in args.parts:
        rows += training_steps(device, data, batch, repeats)
    if "c" in args.parts:
        rows += time_to_accuracy(device, data, batch, budget)
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        info = {"device": str(device), "name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                "torch": torch.__version__, "cuda": torch.version.cuda}
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"machine": info, "rows": rows}, f, indent=1)
    return 0 if all(row.get("met", True) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
