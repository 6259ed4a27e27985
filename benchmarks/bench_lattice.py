"""Neural lattice reduction vs LLL on scrambled Gaussian bases, side by side in one run.

For each dimension n: the mean log orthogonality defect of the input, after the
network alone, after the network with the classical Gauss / Babai proposals,
after our batched reference LLL, after fpylll's LLL (delta = 0.99), and with the
network as a post-processor (LLL -> network) and pre-processor (network -> LLL);
then throughput in lattices per second: the network on the whole batch at once,
our LLL batched, fpylll one basis at a time as a user calls it. Timings are the
median of --repeats runs after one warm-up, all on one thread (fpylll is single
threaded; on this shared 2-core machine more torch threads are slower).

Run:  .venv/bin/python benchmarks/bench_lattice.py  [--dims 4 8 16 32] [--num 64]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from topoequi.lattice import gaussian_bases, lll_reduce, log_orthogonality_defect, scrambled_bases
from topoequi.models import NeuralLatticeReducer
from topoequi.typing import WITH_FPYLLL


def timed(fn, repeats: int) -> tuple[object, float]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, statistics.median(times)


def load_model(checkpoints: Path, n: int) -> tuple[NeuralLatticeReducer, str]:
    trained = sorted((int(p.parent.name[len("lattice-n"):]), p) for p in checkpoints.glob("lattice-n*/best.pt")
                     if p.parent.name[len("lattice-n"):].isdigit())
    usable = [(d, p) for d, p in trained if d <= n]
    if not usable:
        return NeuralLatticeReducer(), "untrained (Babai initialisation)"
    dim, path = usable[-1]
    model, _ = NeuralLatticeReducer.from_checkpoint(path)
    return model, f"trained at n={dim}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--num", type=int, default=64, help="bases per dimension (default 64)")
    parser.add_argument("--steps", type=int, default=16, help="network reduction steps (default 16)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkpoints", default="runs", help="folder with lattice-n*/best.pt (default runs)")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if WITH_FPYLLL:
        from topoequi.lattice import fpylll_lll
    ld = log_orthogonality_defect
    quality, speed = [], []
    for n in args.dims:
        bases = scrambled_bases(gaussian_bases(args.num, n, seed=args.seed + n), seed=args.seed + 2 * n)[0]
        model, origin = load_model(Path(args.checkpoints), n)
        model.classical_proposals = False
        (net, _), t_net = timed(lambda m=model, b=bases: m.reduce(b, steps=args.steps), args.repeats)
        model.classical_proposals = True
        (hyb, _), t_hyb = timed(lambda m=model, b=bases: m.reduce(b, steps=args.steps), args.repeats)
        (ours, _), t_ours = timed(lambda b=bases: lll_reduce(b), args.repeats)
        row = {"n": n, "model": origin, "input": ld(bases).mean(), "network": ld(net).mean(),
               "network+classical": ld(hyb).mean(), "our LLL": ld(ours).mean()}
        post = model.reduce(ours, steps=args.steps)[0]
        row["LLL->network"] = ld(post).mean()
        row["network->LLL"] = ld(lll_reduce(hyb)[0]).mean()
        rates = {"n": n, "network": args.num / t_net, "network+classical": args.num / t_hyb,
                 "our LLL (batched)": args.num / t_ours}
        if WITH_FPYLLL:
            (ref, _), t_ref = timed(lambda b=bases: fpylll_lll(b), args.repeats)
            row["fpylll LLL"] = ld(ref).mean()
            row["fpylll->network"] = ld(model.reduce(ref, steps=args.steps)[0]).mean()
            rates["fpylll LLL"] = args.num / t_ref
        quality.append(row)
        speed.append(rates)
        print(f"n={n} done ({origin})", flush=True)

    cols = [c for c in quality[0] if c not in ("n", "model")]
    print("\nMean log orthogonality defect (lower is better)\n")
    print("| n | network weights | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for r in quality:
        print(f"| {r['n']} | {r['model']} | " + " | ".join(f"{r[c]:.4f}" for c in cols) + " |")
    if WITH_FPYLLL:
        print("\nRatio to fpylll LLL's mean log defect (1.00 = same, < 1 better)\n")
        rcols = ["network", "network+classical", "our LLL", "LLL->network", "fpylll->network"]
        print("| n | " + " | ".join(rcols) + " |")
        print("|---|" + "---|" * len(rcols))
        for r in quality:
            print(f"| {r['n']} | " + " | ".join(f"{r[c] / r['fpylll LLL']:.3f}" for c in rcols) + " |")
    scols = [c for c in speed[0] if c != "n"]
    print(f"\nLattices per second (median of {args.repeats}, {args.num} bases, 1 thread)"
          + (", and ratio to fpylll" if WITH_FPYLLL else "") + "\n")
    print("| n | " + " | ".join(scols) + " |")
    print("|---|" + "---|" * len(scols))
    for r in speed:
        cells = [f"{r[c]:.0f}" + (f" ({r[c] / r['fpylll LLL']:.2f}x)" if WITH_FPYLLL and c != "fpylll LLL" else "")
                 for c in scols]
        print(f"| {r['n']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
