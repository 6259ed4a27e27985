"""Amortized cryo-EM pose inference: the D4-equivariant encoder against the parameter-matched plain CNN.

Three settings, ``--seeds`` training seeds each, on one simulated stack of the embedded 1AKE map
(32^3, 2.5 Angstrom voxels; ``--images`` particles at ``--snr``, RELION CTF with defocus 1-2.5 um,
300 kV, Cs 2.7 mm, 10% amplitude contrast, 500 A astigmatism; shifts of 1 pixel standard deviation):

* ``d4``: D4 encoder, plain L2 loss;
* ``cnn-sym``: plain CNN encoder with cryoAI's symmetric loss;
* ``cnn``: plain CNN encoder, plain L2 loss.

Per run: the median pose error after global alignment (up to handedness) at every epoch, the first
epoch under 5 degrees (converged), the final FSC resolutions against the map, the final concentration
of the predicted viewing directions on one axis (1/3 for uniform poses, 1 when every image is given the
same view up to an in-plane turn), and the median time per epoch. Writes ``cryoem_pose_error.png``
(median pose error against epochs) and a JSON of all histories next to it.

    python benchmarks/bench_cryoem.py [--seeds 5] [--images 512] [--epochs 12] [--snr 1.0] [--threads 1]
                                      [--settings d4,cnn-sym,cnn] [--out FILE.png] [--merge A.json,B.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

SETTINGS = {"d4": ("d4", False), "cnn-sym": ("cnn", True), "cnn": ("cnn", False)}


def train(setting: str, seed: int, args: argparse.Namespace, root: Path) -> list[dict]:
    from topoequi.train import cryoem

    encoder, symmetric = SETTINGS[setting]
    parser = argparse.ArgumentParser()
    cryoem.add_arguments(parser)
    argv = ["--encoder", encoder, "--images", str(args.images), "--snr", str(args.snr), "--epochs", str(args.epochs),
            "--batch-size", str(args.batch_size), "--channels", args.channels, "--seed", str(seed),
            "--plot-every", str(args.epochs), "--out", str(root / f"{setting}-s{seed}"), "--no-progress",
            "--device", "cpu", "--threads", str(args.threads)] + (["--symmetric-loss"] if symmetric else [])
    cryoem.run(parser.parse_args(argv))
    return json.loads((root / f"{setting}-s{seed}" / "results.json").read_text())["history"]


def summary(histories: list[list[dict]], threshold: float) -> dict:
    converged = [next((r["epoch"] for r in h if r["valid_pose_error"] < threshold), None) for h in histories]
    done = [e for e in converged if e is not None]
    return {"converged": f"{len(done)}/{len(histories)}",
            "epochs_to_converge": statistics.median(done) if done else None,
            "final_pose_error": statistics.median(h[-1]["valid_pose_error"] for h in histories),
            "best_pose_error": statistics.median(min(r["valid_pose_error"] for r in h) for h in histories),
            "fsc_0.143": statistics.median(h[-1]["valid_fsc_0.143"] for h in histories),
            "fsc_0.5": statistics.median(h[-1]["valid_fsc_0.5"] for h in histories),
            "view_concentration": statistics.median(h[-1].get("valid_view_concentration", float("nan"))
                                                    for h in histories),
            "seconds_per_epoch": statistics.median(r["seconds"] for h in histories for r in h)}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for (setting, histories), color in zip(results.items(), ("C0", "C1", "C2", "C3")):
        for i, h in enumerate(histories):
            ax.plot([r["epoch"] for r in h], [r["valid_pose_error"] for r in h], color=color, alpha=0.6,
                    label=setting if i == 0 else None)
    ax.axhline(5, color="gray", ls="--", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("median pose error after alignment (deg)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--snr", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--channels", default="4,4,8,8")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--out", default=str(Path(__file__).with_name("cryoem_pose_error.png")))
    parser.add_argument("--merge", default=None, help="comma-separated JSON files of earlier runs: table and plot only")
    args = parser.parse_args()
    results = {}
    if args.merge:
        for name in args.merge.split(","):
            results.update(json.loads(Path(name).read_text())["results"])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for setting in args.settings.split(","):
                results[setting] = [train(setting, seed, args, Path(tmp)) for seed in range(args.seeds)]
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    plot(results, out)
    print("| setting | converged (< 5 deg) | epochs to converge | final median error (deg) | best (deg) "
          "| FSC 0.5 (A) | FSC 0.143 (A) | views on one axis | s / epoch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for setting, histories in results.items():
        s = summary(histories, 5.0)
        epochs = "-" if s["epochs_to_converge"] is None else f"{s['epochs_to_converge']:g}"
        print(f"| {setting} | {s['converged']} | {epochs} | {s['final_pose_error']:.1f} | {s['best_pose_error']:.1f} "
              f"| {s['fsc_0.5']:.1f} | {s['fsc_0.143']:.1f} | {s['view_concentration']:.2f} "
              f"| {s['seconds_per_epoch']:.1f} |")


if __name__ == "__main__":
    main()
