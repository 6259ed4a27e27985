"""Amortized cryo-EM pose inference and reconstruction on a simulated (or real) particle stack.

    topoequi train cryoem --encoder d4|cnn [--symmetric-loss] [--heads 1] [--grid none|cube] [--softmin T0,T1,E]
                          [--support R] [--images 1024] [--snr 0.1]
                          [--channels 4,4,8,8] [--kernel-size 3] [--epochs 20] [--batch-size 32] [--lr 1e-3]
                          [--volume-lr 1e-2] [--seed 0] [--data-seed 0] [--map FILE.npz]
                          [--stack FILE.mrcs --star FILE.star] [--plot-every 5] [--out DIR]

Data: ``--images`` particles simulated from the density map (default: the embedded 1AKE map,
32^3, 2.5 Angstrom voxels) at ``--snr`` with RELION CTFs (defocus 1-2.5 um, 300 kV) and shifts,
or a real ``--stack`` / ``--star`` pair (optional ``cryoem`` extra). Images are divided by the
stack's standard deviation. Models: :class:`~topoequi.models.cryoem_pose_encoder.CryoPoseEncoder`
(``d4``; ``cnn`` is the plain encoder with the same parameter count) and a
:class:`~topoequi.models.cryoem_reconstruction.VoxelVolumeDecoder`. ``--heads K`` / ``--grid cube`` give
each image K (x 24) pose hypotheses (:class:`~topoequi.models.cryoem_pose_hypotheses.PoseHypothesisEncoder`),
trained on the best one's loss plus 0.05 / H of their mean (H hypotheses, so that none stops learning), or
with ``--softmin T0,T1,E`` on their soft minimum at a temperature annealed geometrically from T0 to T1 in
E epochs; the pose scored is the best hypothesis. ``--support R`` keeps the volume non-negative and
inside a sphere of R voxels (projected after every step). Each epoch logs the median
pose error after global alignment (degrees), the fraction of poses within 5 / 15 degrees, the
concentration of the predicted viewing directions on one axis (1/3 uniform, 1 for the degenerate
solution of a single view), the FSC resolutions (Angstrom) of the aligned volume against the map,
and every ``--plot-every`` epochs writes ``volume_epochNNN.png`` (central slices and projections).
``results.json`` holds the history.
"""
from __future__ import annotations

import argparse
import os

import torch

ENCODERS = {"d4": "D4", "cnn": None}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from topoequi.train.options import add_engine_arguments

    parser.add_argument("--encoder", default="d4", choices=tuple(ENCODERS))
    parser.add_argument("--symmetric-loss", action="store_true", help="cryoAI's symmetric loss")
    parser.add_argument("--heads", type=int, default=1, help="pose heads per image (best one trained)")
    parser.add_argument("--grid", default="none", choices=("none", "cube"),
                        help="cube: each head's pose times the cube's 24 rotations")
    parser.add_argument("--softmin", default="", help="T0,T1,E: soft minimum over hypotheses, T0 -> T1 in E epochs")
    parser.add_argument("--support", type=float, default=0.0,
                        help="R > 0: volume >= 0 inside a sphere of R voxels, 0 outside (0: unconstrained)")
    parser.add_argument("--channels", default="4,4,8,8", help="D4 fields per block (cnn: matched by parameters)")
    parser.add_argument("--kernel-size", type=int, default=3, help="convolution stencil width")
    parser.add_argument("--images", type=int, default=1024, help="particles to simulate")
    parser.add_argument("--snr", type=float, default=0.1, help="signal-to-noise ratio of the simulation")
    parser.add_argument("--map", default=None, help="density map .npz (volume, voxel_size); default: embedded 1AKE")
    parser.add_argument("--stack", default=None, help="real particle stack .mrcs (with --star)")
    parser.add_argument("--star", default=None, help="RELION .star file of --stack")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="encoder learning rate")
    parser.add_argument("--volume-lr", type=float, default=1e-2, help="volume learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and batches")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the simulated stack")
    parser.add_argument("--plot-every", type=int, default=5, help="epochs between volume PNGs (0: none)")
    parser.add_argument("--out", default=None, help="run folder (default runs/cryoem-ENCODER[-sym]-sSEED)")
    add_engine_arguments(parser)


def check_args(args: argparse.Namespace):
    """Check every flag before any data is loaded; return the loop settings."""
    from topoequi.train.images import parse_channels
    from topoequi.train.options import engine_config

    args.channels_tuple = parse_channels(args.channels)
    for name in ("images", "epochs", "batch_size", "kernel_size", "heads"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.support < 0:
        raise ValueError(f"--support must be >= 0 (a radius in voxels; 0: none), got {args.support}")
    for name in ("snr", "volume_lr"):
        if not getattr(args, name) > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if (args.stack is None) != (args.star is None):
        raise ValueError("--stack and --star go together (the .mrcs images and their .star file)")
    if args.plot_every < 0:
        raise ValueError(f"--plot-every must be >= 0, got {args.plot_every}")
    args.schedule = parse_softmin(args.softmin)
    sym = "-sym" if args.symmetric_loss else ""
    hyp = (f"-h{args.heads}" if args.heads > 1 else "") + ("-cube" if args.grid == "cube" else "")
    args.out = args.out or os.path.join("runs", f"cryoem-{args.encoder}{sym}{hyp}-s{args.seed}")
    return engine_config(args, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         monitor="valid_pose_error", grad_clip=None)


def parse_softmin(text: str) -> tuple[float, float, float] | None:
    """``"T0,T1,E"`` to ``(T0, T1, E)`` (``""``: ``None``, the hard minimum)."""
    if not text:
        return None
    try:
        t0, t1, ramp = (float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--softmin must be T0,T1,E (three numbers), got {text!r}") from None
    if not (t0 > 0 and t1 > 0 and ramp >= 1):
        raise ValueError(f"--softmin needs T0 > 0, T1 > 0 and E >= 1, got {text!r}")
    return t0, t1, ramp


def temperature(schedule: tuple[float, float, float] | None, epoch: int) -> float:
    r""":math:`T_0 (T_1 / T_0)^{\min(1, e / E)}` at 0-based epoch e (``0`` without a schedule)."""
    if schedule is None:
        return 0.0
    t0, t1, ramp = schedule
    return t0 * (t1 / t0) ** min(1.0, epoch / ramp)


def load_stack(args: argparse.Namespace):
    """``(stack, volume or None, voxel size)`` from ``--stack/--star`` or simulated from ``--map``."""
    from topoequi.cryoem import load_density_map, simulate_stack

    volume, voxel = load_density_map(args.map)
    if args.stack is not None:
        from topoequi.cryoem.stack_io import read_stack

        stack = read_stack(args.stack, args.star, volume_size=volume.shape[0] if args.map else None)
        return stack, (volume if args.map else None), stack.pixel_size
    return simulate_stack(volume, args.images, voxel, snr=args.snr, seed=args.data_seed), volume, voxel


def build_model(args: argparse.Namespace, size: int):
    from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder, matching_plain_encoder
    from topoequi.models.cryoem_pose_hypotheses import PoseHypothesisEncoder
    from topoequi.models.cryoem_reconstruction import AmortizedReconstruction, VoxelVolumeDecoder

    encoder = CryoPoseEncoder("D4", args.channels_tuple, args.kernel_size)
    if ENCODERS[args.encoder] is None:
        encoder = matching_plain_encoder(encoder)
    mean_weight = 0.0
    if args.heads > 1 or args.grid != "none":
        encoder = PoseHypothesisEncoder(encoder, args.heads, args.grid)
        mean_weight = 0.05 / encoder.num_hypotheses
    decoder = VoxelVolumeDecoder(size, support=args.support or None)
    return AmortizedReconstruction(encoder, decoder, symmetric=args.symmetric_loss,
                                   temperature=temperature(args.schedule, 0), mean_weight=mean_weight)


@torch.no_grad()
def evaluate_poses(model, images: torch.Tensor, ctf: torch.Tensor, true_rotations: torch.Tensor, volume,
                   voxel: float, batch_size: int = 256) -> tuple[dict, torch.Tensor | None]:
    """For the best hypothesis of each image: median pose error after alignment, fraction within 5 and 15
    degrees, concentration of the viewing directions (:func:`~topoequi.cryoem.rotations.view_concentration`),
    FSC resolutions; and the learned volume carried into the frame of ``volume``."""
    from topoequi.cryoem.fsc import align_volume, fsc_resolutions
    from topoequi.cryoem.rotations import align_rotations, view_concentration

    was = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = range(0, len(images), batch_size)
    predicted = torch.cat([model.infer(images[s:s + batch_size].to(device),
                                       ctf[s:s + batch_size].to(device))["rotation"].cpu() for s in chunks])
    model.train(was)
    alignment = align_rotations(predicted.double(), true_rotations.double())
    row = {"valid_pose_error": alignment.median, "valid_within_5": float((alignment.errors < 5).double().mean()),
           "valid_within_15": float((alignment.errors < 15).double().mean()), "valid_mirrored": int(alignment.mirrored),
           "valid_view_concentration": view_concentration(predicted)}
    aligned = align_volume(model.decoder.volume.detach().double().cpu(), alignment)
    if volume is not None:
        row.update({f"valid_{k}": v for k, v in fsc_resolutions(aligned, volume.double(), voxel).items()})
    return row, aligned


def plot_volume(learned: torch.Tensor, truth: torch.Tensor | None, path: str, title: str) -> None:
    """Central slices and projections along x, y, z of the aligned learned volume (and of the truth)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from topoequi.files import atomic_write

    rows = [("slice", learned, True), ("projection", learned, False)]
    if truth is not None:
        rows.append(("true projection", truth, False))
    fig, axes = plt.subplots(len(rows), 3, figsize=(7, 2.3 * len(rows)), squeeze=False)
    c = learned.shape[0] // 2
    for r, (label, vol, central) in enumerate(rows):
        for a, axis in enumerate((0, 1, 2)):
            image = vol.select(axis, c) if central else vol.sum(axis)
            axes[r, a].imshow(image.float().numpy(), cmap="gray")
            axes[r, a].set_xticks([])
            axes[r, a].set_yticks([])
            axes[r, a].set_title(f"{label} {'zyx'[axis]}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=80))
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from topoequi.files import RunFolder, write_json
    from topoequi.models.steerable_image_cnn import num_parameters
    from topoequi.train.checkpoint import seed_everything
    from topoequi.train.engine import Trainer

    config = check_args(args)
    with RunFolder(args.out, resume=args.resume, overwrite=args.overwrite):
        stack, volume, voxel = load_stack(args)
        scale = stack.images.std()
        stack.images = stack.images / scale
        data = stack.to_data_list()
        images, rotations = stack.images[:, None], stack.rotations
        ctf = torch.cat([d.ctf for d in data])
        seed_everything(args.seed)
        model = build_model(args, stack.size)
        identity = {"task": "cryoem", "encoder": args.encoder, "symmetric_loss": args.symmetric_loss,
                    "heads": args.heads, "grid": args.grid, "softmin": args.softmin, "support": args.support,
                    "channels": list(args.channels_tuple), "kernel_size": args.kernel_size, "images": len(stack),
                    "snr": args.snr, "data_seed": args.data_seed, "map": args.map, "stack": args.stack}

        def validate(trainer: Trainer) -> dict:
            row, aligned = evaluate_poses(model, images, ctf, rotations, volume, voxel)
            epoch = trainer.epoch + 1
            if args.plot_every and (epoch % args.plot_every == 0 or epoch == args.epochs):
                truth = volume.double() if volume is not None else None
                plot_volume(aligned, truth, os.path.join(args.out, f"volume_epoch{epoch:03d}.png"),
                            f"{args.encoder}{' symmetric loss' if args.symmetric_loss else ''}, epoch {epoch}: "
                            f"median pose error {row['valid_pose_error']:.1f} deg")
            return row

        def optimizers(model, config):
            groups = [{"params": model.encoder.parameters(), "lr": config.lr},
                      {"params": model.decoder.parameters(), "lr": args.volume_lr}]
            optimizer = torch.optim.Adam(groups)
            optimizer.register_step_post_hook(lambda *_: model.decoder.project_())
            return optimizer, None

        def anneal(trainer: Trainer, epoch: int) -> None:
            model.temperature = temperature(args.schedule, epoch)

        trainer = Trainer(model, data, None, lambda out, batch: out["loss"], None, config, args.out,
                          identity=identity, configure_optimizers=optimizers, validate=validate, epoch_start=anneal)
        hypotheses = getattr(model.encoder, "num_hypotheses", 1)
        print(f"{args.encoder}: {num_parameters(model.encoder)} encoder parameters, {hypotheses} pose "
              f"hypothes{'i' if hypotheses == 1 else 'e'}s per image, {len(stack)} images of {stack.size} px",
              flush=True)
        history = trainer.fit(resume=args.resume, overwrite=args.overwrite)
        write_json(os.path.join(args.out, "results.json"),
                   {**identity, "seed": args.seed, "encoder_parameters": num_parameters(model.encoder),
                    "history": history})
    last = history[-1]
    print(f"median pose error {last['valid_pose_error']:.2f} deg after {last['epoch']} epochs"
          + (f", FSC 0.143 {last['valid_fsc_0.143']:.2f} A" if "valid_fsc_0.143" in last else ""))
    return 0
