r"""Why amortized cryo-EM pose inference stalls: three ways of training the pose encoder alone or with the volume.

* ``--mode supervised``: the encoder regresses the true poses directly (chordal loss |R - R_true|^2),
  no volume: the fastest any amortized training could learn them (a diagnostic, not a method);
* ``--mode frozen``: the rendering loss with the decoder frozen at the true volume: can the
  encoder learn poses from images alone when the volume is known?
* ``--mode learn``: the rendering loss with the volume learned too (the amortized setting);
* ``--mode poses``: the volume alone, learned at the true poses and shifts: the loss a correct solution
  reaches, against which the losses of the other modes' end points are read.

Per epoch: the loss, the median pose error after global alignment, the fractions within 5 and 15
degrees; at the end, the eigenvalues of the second moment of the predicted viewing directions
(1/3 each for uniform poses; one near 1 when every image is given the same view up to an in-plane
turn), the second moments of the learned volume's density against the true map's, and with
``--view-prior W`` the term ``W |mean(v v^T) - I/3|^2`` on each batch (a uniform-view prior).
``--support R`` projects the learned volume after every step onto non-negative densities inside a
sphere of R voxels (the positivity and spherical mask of classical refinement). ``--bin 2`` averages the
map over 2x2x2 voxels (16^3, 5 A voxels) before simulating; ``--save`` and ``--init`` carry the encoder
from one run to the next (e.g. supervised, then the rendering loss).

``--heads K`` (multiple hypotheses, :class:`~topoequi.models.cryoem_pose_hypotheses.PoseHypothesisEncoder`):
K copies of the encoder's head on one trunk, each exactly equivariant, give H = K poses per image; the loss
is :math:`\min_h L_h + (0.05/H) \operatorname{mean}_h L_h` (winner takes all, the second term keeps every
head learning), and the pose scored is the one of the hypothesis with the lowest loss on each image.
``--heads 1`` is the single-head encoder. ``--grid 24`` turns each head's pose :math:`R` into the 24
hypotheses :math:`R g` (H = 24 K; g the rotations of the cube: fixed right factors, so the equivariance
:math:`R(hI) = \rho(h) R(I)` stays exact and the viewing directions :math:`g^T v` stay spread over the
sphere). ``--softmin T0,T1,E`` replaces the minimum by the soft minimum
:math:`-T \log \operatorname{mean}_h e^{-L_h / T}`, T annealed geometrically from T0 to T1 over E epochs
(every hypothesis weighted by its posterior at temperature T, as in annealed expectation-maximisation).

    python benchmarks/cryoem_diagnostics.py --mode frozen|supervised|learn|poses [--encoder d4|cnn] [--snr 1]
        [--images 512] [--epochs 15] [--lr 1e-3] [--volume-lr 1e-2] [--lowpass F0,F1,E] [--bin 1]
        [--view-prior 0] [--heads 1] [--grid 1|24] [--softmin T0,T1,E] [--support R]
        [--start-lowpass F] [--seed 0] [--save ENC.pt] [--init ENC.pt]
"""
from __future__ import annotations

import argparse
import math
import time

import torch


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", default="frozen", choices=("frozen", "supervised", "learn", "poses"))
    p.add_argument("--encoder", default="d4", choices=("d4", "cnn"))
    p.add_argument("--snr", type=float, default=1.0)
    p.add_argument("--images", type=int, default=512)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--volume-lr", type=float, default=1e-2)
    p.add_argument("--channels", default="4,4,8,8")
    p.add_argument("--lowpass", default="", help="F0,F1,E: loss on frequencies <= F (cycles/px), F0 -> F1 in E epochs")
    p.add_argument("--bin", type=int, default=1)
    p.add_argument("--view-prior", type=float, default=0.0)
    p.add_argument("--heads", type=int, default=1, help="K pose hypotheses per image (winner takes all)")
    p.add_argument("--grid", type=int, default=1, choices=(1, 24),
                   help="24: each head's pose R also as R g for the 24 rotations g of the cube")
    p.add_argument("--softmin", default="", help="T0,T1,E: soft winner, temperature T0 -> T1 (geometric) in E epochs")
    p.add_argument("--start-lowpass", type=float, default=0.0,
                   help="F > 0: start the learned volume at the true map low-passed to F cycles/voxel (refinement)")
    p.add_argument("--support", type=float, default=0.0,
                   help="R > 0: after each step, project the learned volume onto densities >= 0 within radius R voxels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="write the encoder's weights here at the end")
    p.add_argument("--init", default=None, help="start from these encoder weights (from --save)")
    return p.parse_args()


def stack(args):
    from topoequi.cryoem import ctf_image, load_density_map, simulate_stack

    volume, voxel = load_density_map(None)
    if args.bin > 1:
        volume = torch.nn.functional.avg_pool3d(volume[None, None].double(), args.bin)[0, 0].float() * args.bin
        voxel = voxel * args.bin
    st = simulate_stack(volume, args.images, voxel, snr=args.snr, seed=0)
    scale = st.images.std()
    ctf = ctf_image(st.ctf, st.size, st.pixel_size).float()
    return (st.images / scale)[:, None], ctf, st.rotations.float(), st.shifts.float(), volume, scale


def second_moments(volume: torch.Tensor) -> list[float]:
    """Eigenvalues of the second moment (voxels^2) of the positive density about its centre of mass."""
    v = volume.double().clamp_min(0)
    c = (v.shape[0] - 1) / 2
    g = torch.stack(torch.meshgrid(*[torch.arange(v.shape[0], dtype=torch.float64) - c] * 3, indexing="ij"), -1)
    w = v / v.sum()
    d = g - (w[..., None] * g).sum((0, 1, 2))
    return torch.linalg.eigvalsh((w[..., None, None] * d[..., :, None] * d[..., None, :]).sum((0, 1, 2))).tolist()


def batch_loss(args, encoder, decoder, images, ctf, true, radius, mask):
    rotations, shifts = encoder(images)
    if args.mode == "supervised":
        loss = (rotations - true).pow(2).sum((1, 2)).mean()
    elif mask is not None:
        n = images.shape[-1]
        loss = (torch.fft.fft2((images - decoder(rotations, shifts, ctf))[:, 0]) * mask).abs().pow(2).mean() / n**2
    else:
        loss = (images - decoder(rotations, shifts, ctf)).pow(2).mean()
    if args.view_prior:
        v = rotations[:, 2, :]
        loss = loss + args.view_prior * ((v[:, :, None] * v[:, None, :]).mean(0) - torch.eye(3) / 3).pow(2).sum()
    return loss


def head_losses(args, decoder, rotations, shifts, images, ctf, true, mask):
    """Per image and head ``[B, K]``: the chordal loss (supervised) or the rendering loss of :func:`batch_loss`."""
    b, k = rotations.shape[:2]
    if args.mode == "supervised":
        return (rotations - true[:, None]).pow(2).sum((-2, -1))
    n = images.shape[-1]
    rendered = decoder(rotations.flatten(0, 1), shifts.flatten(0, 1), ctf.repeat_interleave(k, 0))
    residual = images - rendered.view(b, k, n, n)
    if mask is not None:
        return (torch.fft.fft2(residual) * mask).abs().pow(2).mean((-2, -1)) / n**2
    return residual.pow(2).mean((-2, -1))


def multi_head_loss(args, encoder, decoder, images, ctf, true, radius, mask):
    r""":math:`\operatorname{mean}_i [\min_k L_{ik} + (0.05/K) \operatorname{mean}_k L_{ik}]` (+ the view prior on
    the winning heads' poses)."""
    rotations, shifts = encoder(images)
    losses = head_losses(args, decoder, rotations, shifts, images, ctf, true, mask)
    from topoequi.models.cryoem_reconstruction import soft_minimum

    best, winner = soft_minimum(losses, args.temperature)
    loss = best.mean() + 0.05 / losses.shape[1] * losses.mean()
    if args.view_prior:
        v = rotations[torch.arange(len(winner)), winner, 2, :]
        loss = loss + args.view_prior * ((v[:, :, None] * v[:, None, :]).mean(0) - torch.eye(3) / 3).pow(2).sum()
    return loss


def predict(args, encoder, decoder, images, ctf, true, mask) -> tuple[torch.Tensor, torch.Tensor]:
    """The predicted rotations ``[B, 3, 3]`` (with several heads: each image's lowest-loss head) and the
    winning head of each image."""
    rotations, winners = [], []
    for s in range(0, len(images), 256):
        r, t = encoder(images[s:s + 256])
        if r.dim() == 3:
            rotations.append(r)
            winners.append(torch.zeros(len(r), dtype=torch.long))
            continue
        w = head_losses(args, decoder, r, t, images[s:s + 256], ctf[s:s + 256], true[s:s + 256], mask).argmin(1)
        rotations.append(r[torch.arange(len(w)), w])
        winners.append(w)
    return torch.cat(rotations), torch.cat(winners)


def fit_at_true_poses(args, images, ctf, true, shifts, volume, scale) -> None:
    """``--mode poses``: Adam on the volume alone, rendered at the true poses and shifts; prints the loss
    per epoch and, at the end, that of the true map through the same decoder."""
    from topoequi.models.cryoem_reconstruction import VoxelVolumeDecoder

    decoder = VoxelVolumeDecoder(images.shape[-1])
    optimizer = torch.optim.Adam(decoder.parameters(), lr=args.volume_lr)

    def loss(idx):
        return (images[idx] - decoder(true[idx], shifts[idx], ctf[idx])).pow(2).mean()

    def batches(order):
        return [order[s:s + args.batch_size] for s in range(0, args.images, args.batch_size)]

    for epoch in range(args.epochs):
        total = []
        for idx in batches(torch.randperm(args.images)):
            value = loss(idx)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            total.append(value.item())
        print(f"epoch {epoch + 1} loss {sum(total) / len(total):.5f}", flush=True)
    with torch.no_grad():
        decoder.volume.copy_(volume / scale)
        print(f"the true map: loss {sum(loss(i).item() for i in batches(torch.arange(args.images))) / len(total):.5f}")


def main() -> None:
    from topoequi.cryoem.rotations import align_rotations
    from topoequi.models.cryoem_pose_encoder import CryoPoseEncoder, matching_plain_encoder
    from topoequi.models.cryoem_pose_hypotheses import PoseHypothesisEncoder
    from topoequi.models.cryoem_reconstruction import VoxelVolumeDecoder

    args = parse()
    torch.set_num_threads(1)
    images, ctf, true, shifts, volume, scale = stack(args)
    if args.mode == "poses":
        return fit_at_true_poses(args, images, ctf, true, shifts, volume, scale)
    torch.manual_seed(args.seed)
    encoder = CryoPoseEncoder("D4", tuple(int(c) for c in args.channels.split(",")), 3)
    if args.encoder == "cnn":
        encoder = matching_plain_encoder(encoder)
    if args.init:
        encoder.load_state_dict(torch.load(args.init, weights_only=True))
    single = args.heads == 1 and args.grid == 1
    model = encoder if single else PoseHypothesisEncoder(encoder, args.heads, "cube" if args.grid > 1 else "none")
    loss_fn = batch_loss if single else multi_head_loss
    args.temperature = 0.0
    decoder = VoxelVolumeDecoder(images.shape[-1], support=args.support or None)
    groups = [{"params": model.parameters(), "lr": args.lr}]
    if args.mode == "learn":
        groups.append({"params": decoder.parameters(), "lr": args.volume_lr})
        if args.start_lowpass:
            f = torch.fft.fftfreq(volume.shape[0])
            keep = (f[:, None, None] ** 2 + f[None, :, None] ** 2 + f[None, None] ** 2).sqrt() <= args.start_lowpass
            with torch.no_grad():
                decoder.volume.copy_(torch.fft.ifftn(torch.fft.fftn(volume.double()) * keep).real / scale)
    else:
        with torch.no_grad():
            decoder.volume.copy_(volume / scale)
        decoder.volume.requires_grad_(False)
    optimizer = torch.optim.Adam(groups)
    f = torch.fft.fftfreq(images.shape[-1])
    radius = (f[:, None] ** 2 + f[None] ** 2).sqrt()
    steps = math.ceil(args.images / args.batch_size)
    for epoch in range(args.epochs):
        start, total, mask = time.time(), 0.0, None
        if args.lowpass:
            f0, f1, ramp = (float(x) for x in args.lowpass.split(","))
            mask = (radius <= f0 + (f1 - f0) * min(1.0, epoch / max(ramp, 1))).float()
        if args.softmin:
            t0, t1, ramp = (float(x) for x in args.softmin.split(","))
            args.temperature = t0 * (t1 / t0) ** min(1.0, epoch / max(ramp, 1))
        order = torch.randperm(args.images)
        model.train()
        for s in range(0, args.images, args.batch_size):
            idx = order[s:s + args.batch_size]
            loss = loss_fn(args, model, decoder, images[idx], ctf[idx], true[idx], radius, mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if args.mode == "learn":
                decoder.project_()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            predicted, winners = predict(args, model, decoder, images, ctf, true, mask)
        alignment = align_rotations(predicted.double(), true.double())
        e = alignment.errors
        print(f"epoch {epoch + 1} loss {total / steps:.4f} median {alignment.median:.1f} deg, within 5 "
              f"{(e < 5).float().mean():.2f}, within 15 {(e < 15).float().mean():.2f}, mirrored "
              f"{alignment.mirrored}, {time.time() - start:.1f} s", flush=True)
        if not single:
            print("  images won by each head:", torch.bincount(winners, minlength=args.heads * args.grid).tolist(),
                  flush=True)
    if args.save:
        torch.save(encoder.state_dict(), args.save)
    view = predicted.double()[:, 2, :]
    print("viewing directions, second-moment eigenvalues:", [round(x, 3) for x in
                                                             torch.linalg.eigvalsh(view.T @ view / len(view)).tolist()])
    print("volume second moments (voxels^2):", [round(x, 2) for x in second_moments(decoder.volume.detach())],
          "true map:", [round(x, 2) for x in second_moments(volume)])


if __name__ == "__main__":
    main()
