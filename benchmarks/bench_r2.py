r"""E(2)-steerable CNNs on images: topoequi's ``SteerableImageConv`` against escnn's ``R2Conv``.

Both sides build the same networks from the same field types:

- **layer**: one 3x3 convolution between 32 regular fields of D8 (512 channels);
- **WRN-16-8 D8D4D1**: the wide ResNet of the paper's STL-10 experiments (depth 16, widen 8,
  pre-activation blocks, 3x3 kernels, 1x1 shortcuts), regular fields with escnn's ``fixparams``
  widths ``int(w / sqrt(|G|))`` -- 4 D8 fields after the stem, 32 D8 fields in stage 1, then the
  group restricted to D4 (90 fields, stride 2) and to D1 (362 fields, stride 2) -- batch norm,
  ReLU, group pooling, a linear classifier. topoequi: ``RegularBatchNorm``, ``RestrictGroup``;
  escnn: ``InnerBatchNorm``, ``RestrictionModule`` + ``DisentangleModule`` as in its
  ``e2wideresnet`` example.

Measured in one process, each library cold (its own caches empty in this process; escnn also keeps
a joblib cache on disk, warm after its first run): construction time of the layer and of the
model; training forward + backward (batch ``--batch-size`` of 3x``--size``x``--size`` images,
rounds interleaved) and the peak resident memory of one step above the memory before it
(``VmHWM`` after a reset); inference in ``eval()`` with the cached filter; the equivariance error
of a two-layer D8 network (trivial -> 8 regular fields, 5x5, ReLU, 3x3 -> 8 regular fields) under
the grid's 90-degree rotations and flip (exact on the grid; topoequi in float64 and float32, escnn
float32) and under the 45-degree rotation of D8 (interpolated; each library with its own transform
of images, relative error on the central disk of a smooth input).

escnn 1.0.11 calls ``sklearn.utils.extmath.randomized_svd`` on an ``np.matrix``, which
scikit-learn >= 1.6 rejects; the script converts it with ``np.asarray`` (no other change).

    python benchmarks/bench_r2.py [--batch-size 8] [--size 32] [--repeats 3] [--threads N]
"""
from __future__ import annotations

import argparse
import ctypes
import math
import time

import numpy as np
import torch
from _timing import peak_rss_since_reset_mib, reset_peak_rss, rss_mib, time_interleaved
from torch import nn

from topoequi.nn import (
    GroupPooling,
    RegularBatchNorm,
    RestrictGroup,
    SteerableImageConv,
    regular_field_rep,
)
from topoequi.symmetry import Dihedral
from topoequi.testing.image_equivariance import grid_elements, transform_image

WIDTHS = (16, 128, 256, 512)  # WRN-16-8: 16, 16k, 32k, 64k
STAGES = ((8, 1), (4, 2), (1, 2))  # group order N of D_N and stride of each stage


def fields(width: int, n: int) -> int:
    """escnn's ``fixparams`` regular widths: ``int(width / sqrt(|D_N|))``."""
    return int(width / math.sqrt(2 * n))


# ----------------------------------------------------------------------------- topoequi
class OursBlock(nn.Module):
    def __init__(self, in_rep, out_rep, stride):
        super().__init__()
        self.bn1, self.bn2 = RegularBatchNorm(in_rep), RegularBatchNorm(out_rep)
        self.conv1 = SteerableImageConv(in_rep, out_rep, 3, stride=stride, bias=False)
        self.conv2 = SteerableImageConv(out_rep, out_rep, 3, bias=False)
        same = in_rep == out_rep and stride == 1
        self.shortcut = None if same else SteerableImageConv(in_rep, out_rep, 1, stride=stride, bias=False)

    def forward(self, x):
        out = self.conv1(torch.relu(self.bn1(x)))
        out = self.conv2(torch.relu(self.bn2(out)))
        return out + (x if self.shortcut is None else self.shortcut(x))


def ours_wrn(num_classes: int = 10) -> nn.Module:
    d8 = Dihedral(8)
    rep = regular_field_rep(d8, fields(WIDTHS[0], 8))
    layers: list[nn.Module] = [SteerableImageConv(d8.trivial_rep(3), rep, 3, bias=False)]
    for (n, stride), width in zip(STAGES, WIDTHS[1:]):
        group = Dihedral(n)
        if rep.group != group:
            layers.append(RestrictGroup(rep, group))
            rep = layers[-1].out_rep
        out = regular_field_rep(group, fields(width, n))
        layers += [OursBlock(rep, out, stride), OursBlock(out, out, 1)]
        rep = out
    layers += [RegularBatchNorm(rep), nn.ReLU(), GroupPooling(rep), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(rep.dim // rep.group.order, num_classes)]
    return nn.Sequential(*layers)


def ours_pair() -> nn.Module:
    d8 = Dihedral(8)
    rep = regular_field_rep(d8, 8)
    return nn.Sequential(SteerableImageConv(d8.trivial_rep(1), rep, 5), nn.ReLU(), SteerableImageConv(rep, rep, 3))


# ----------------------------------------------------------------------------- escnn
def escnn_shim() -> None:
    import escnn.group._numerical as numerical

    svd = numerical.randomized_svd
    if svd is not None and not getattr(svd, "accepts_matrix", False):
        def randomized_svd(a, **kwargs):
            return svd(np.asarray(a), **kwargs)

        randomized_svd.accepts_matrix = True
        numerical.randomized_svd = randomized_svd


class EscnnBlock(nn.Module):
    def __init__(self, in_type, out_type, stride):
        super().__init__()
        from escnn import nn as enn

        self.bn1, self.relu1 = enn.InnerBatchNorm(in_type), enn.ReLU(in_type)
        self.conv1 = enn.R2Conv(in_type, out_type, 3, padding=1, stride=stride, bias=False)
        self.bn2, self.relu2 = enn.InnerBatchNorm(out_type), enn.ReLU(out_type)
        self.conv2 = enn.R2Conv(out_type, out_type, 3, padding=1, bias=False)
        same = in_type == out_type and stride == 1
        self.shortcut = None if same else enn.R2Conv(in_type, out_type, 1, stride=stride, bias=False)

    def forward(self, x):
        out = self.conv1(self.relu1(self.bn1(x)))
        out = self.conv2(self.relu2(self.bn2(out)))
        return out + (x if self.shortcut is None else self.shortcut(x))


class EscnnWRN(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        from escnn import gspaces
        from escnn import nn as enn

        space = gspaces.flipRot2dOnR2(8)
        self.in_type = enn.FieldType(space, [space.trivial_repr] * 3)
        ftype = enn.FieldType(space, [space.regular_repr] * fields(WIDTHS[0], 8))
        layers = [enn.R2Conv(self.in_type, ftype, 3, padding=1, bias=False)]
        for (n, stride), width in zip(STAGES, WIDTHS[1:]):
            if n != 8:  # restrict D_2n -> D_n (flip axis 0), then split the restricted fields
                layers.append(enn.RestrictionModule(ftype, (0, n)))
                layers.append(enn.DisentangleModule(layers[-1].out_type))
                ftype = layers[-1].out_type
                space = ftype.gspace
            out = enn.FieldType(space, [space.regular_repr] * fields(width, n))
            layers += [EscnnBlock(ftype, out, stride), EscnnBlock(out, out, 1)]
            ftype = out
        layers += [enn.InnerBatchNorm(ftype), enn.ReLU(ftype), enn.GroupPooling(ftype)]
        self.body = nn.ModuleList(layers)
        self.head = nn.Linear(len(ftype), num_classes)

    def forward(self, x):
        from escnn import nn as enn

        y = enn.GeometricTensor(x, self.in_type)
        for layer in self.body:
            y = layer(y)
        return self.head(y.tensor.mean((-2, -1)))


def escnn_layer():
    from escnn import gspaces
    from escnn import nn as enn

    space = gspaces.flipRot2dOnR2(8)
    ftype = enn.FieldType(space, [space.regular_repr] * 32)
    return enn.R2Conv(ftype, ftype, 3, padding=1)


def escnn_pair():
    from escnn import gspaces
    from escnn import nn as enn

    space = gspaces.flipRot2dOnR2(8)
    trivial = enn.FieldType(space, [space.trivial_repr])
    reg = enn.FieldType(space, [space.regular_repr] * 8)
    return enn.SequentialModule(enn.R2Conv(trivial, reg, 5, padding=2), enn.ReLU(reg),
                                enn.R2Conv(reg, reg, 3, padding=1)), trivial


# ----------------------------------------------------------------------------- measurements
def timed(build):
    start = time.perf_counter()
    out = build()
    return out, time.perf_counter() - start


def step_peak_mib(step) -> float:
    """Peak resident memory of one call above the memory before it, MiB (freed heap memory is handed
    back to the system first, so that the call's allocations show in the resident set)."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    reset_peak_rss()
    before = rss_mib()
    step()
    return peak_rss_since_reset_mib() - before


def smooth_input(size: int, channels: int = 1, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    """A band-limited random image faded out towards the border (rotations keep it inside)."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randn(2, channels, 9, 9, generator=gen, dtype=torch.float64)
    x = nn.functional.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)
    r = torch.linspace(-1, 1, size, dtype=torch.float64)
    radius = torch.sqrt(r[:, None] ** 2 + r[None, :] ** 2)
    return (x * torch.exp(-((radius / 0.75) ** 6))).to(dtype)


def disk(size: int, margin: int = 6) -> torch.Tensor:
    c = (size - 1) / 2
    idx = torch.arange(size, dtype=torch.float64)
    return ((idx[:, None] - c) ** 2 + (idx[None, :] - c) ** 2) <= (c - margin) ** 2


def relative(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    if mask is not None:
        a, b = a[..., mask], b[..., mask]
    return float((a - b).abs().max() / b.abs().max())


def ours_equivariance(size: int, dtype) -> tuple[float, float]:
    torch.manual_seed(0)
    net = ours_pair().to(dtype).eval()
    d8 = Dihedral(8)
    trivial, rep = d8.trivial_rep(1), regular_field_rep(d8, 8)
    x = smooth_input(size, dtype=dtype)
    with torch.no_grad():
        y = net(x)
        grid = max(relative(net(transform_image(x, g, trivial)), transform_image(y, g, rep))
                   for g in grid_elements(d8))
        g45 = d8.from_angle(torch.tensor([math.pi / 4], dtype=torch.float64))[0]
        rot = relative(net(transform_image(x, g45, trivial)), transform_image(y, g45, rep), disk(size))
    return grid, rot


def escnn_equivariance(size: int) -> tuple[float, float]:
    from escnn import nn as enn

    torch.manual_seed(0)
    net, trivial = escnn_pair()
    net.eval()
    x = enn.GeometricTensor(smooth_input(size, dtype=torch.float32), trivial)
    group = trivial.gspace.fibergroup
    with torch.no_grad():
        y = net(x)
        grid = max(relative(net(x.transform(group.element((f, k)))).tensor, y.transform(group.element((f, k))).tensor)
                   for f in (0, 1) for k in (0, 2, 4, 6))
        g45 = group.element((0, 1))
        rot = relative(net(x.transform(g45)).tensor, y.transform(g45).tensor, disk(size))
    return grid, rot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import escnn

    print(f"torch {torch.__version__}, escnn {escnn.__version__}, threads {torch.get_num_threads()}")
    escnn_shim()
    rows = []
    torch.manual_seed(0)
    ours, t_ours = timed(ours_wrn)
    theirs, t_theirs = timed(EscnnWRN)
    rows.append(("construction, WRN-16-8 D8D4D1 (s)", t_ours, t_theirs))
    _, tl_ours = timed(lambda: SteerableImageConv(regular_field_rep(Dihedral(8), 32),
                                                  regular_field_rep(Dihedral(8), 32), 3))
    _, tl_theirs = timed(escnn_layer)
    rows.append(("construction, one 3x3 layer D8 32->32 fields, caches warm (s)", tl_ours, tl_theirs))
    params = (sum(p.numel() for p in ours.parameters()), sum(p.numel() for p in theirs.parameters()))
    print(f"parameters: topoequi {params[0]:,}, escnn {params[1]:,}")

    x = torch.randn(args.batch_size, 3, args.size, args.size)

    def train_step(model):
        def step():
            model.zero_grad(set_to_none=True)
            model(x).sum().backward()
        return step

    ours.train(), theirs.train()
    steps = {"topoequi": train_step(ours), "escnn": train_step(theirs)}
    timing = time_interleaved(steps, repeats=args.repeats, warmup=1)
    rows.append((f"training forward + backward, batch {args.batch_size}x3x{args.size}x{args.size} (s)",
                 timing["topoequi"].median, timing["escnn"].median))
    rows.append(("peak memory of one training step (MiB)", step_peak_mib(steps["topoequi"]),
                 step_peak_mib(steps["escnn"])))
    ours.eval(), theirs.eval()
    with torch.no_grad():
        infer = time_interleaved({"topoequi": lambda: ours(x), "escnn": lambda: theirs(x)}, repeats=args.repeats,
                                 warmup=1)
    rows.append(("inference in eval(), cached filter (s)", infer["topoequi"].median, infer["escnn"].median))
    grid64, rot64 = ours_equivariance(33, torch.float64)
    grid32, rot32 = ours_equivariance(33, torch.float32)
    egrid, erot = escnn_equivariance(33)
    rows.append(("equivariance, 90-degree rotations and flips, float32 (relative)", grid32, egrid))
    rows.append(("equivariance, 90-degree rotations and flips, float64 (relative)", grid64, float("nan")))
    rows.append(("equivariance, 45-degree rotation, interpolated (relative, central disk)", rot32, erot))
    print("\n| measurement | topoequi | escnn | escnn / topoequi |\n|---|---|---|---|")
    for name, a, b in rows:
        ratio = b / a if a and not math.isnan(b) else float("nan")
        print(f"| {name} | {a:.3g} | {b:.3g} | {ratio:.2f} |")
    print(f"(float64 45-degree error of topoequi: {rot64:.3g})")


if __name__ == "__main__":
    main()
