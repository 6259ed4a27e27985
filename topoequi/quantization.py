r"""int8 quantization of (equivariant) MobileNetV2 through ``torch.ao.quantization``, exactly invariant.

An :class:`~topoequi.models.EquivariantMobileNetV2` is exported to a plain
:class:`~topoequi.models.MobileNetV2` (expanded filters), its weights are projected onto their
symmetry orbits (:func:`symmetrize_`), batch norms are folded, and the network is quantized by
post-training calibration (:func:`quantize_static`) or quantization-aware training
(:func:`quantize_qat`); :func:`save_quantized` writes a TorchScript file that ``torch.jit.load``
reads without topoequi.

**Why the int8 logits are bitwise invariant.** Let :math:`h` be a rotation by a multiple of 90
degrees or a flip (an element of :math:`D_4`). It acts on an image by permuting its pixels, and on
a regular field :math:`(c, s)` by also permuting the samples :math:`s`; call :math:`P_h` the joint
permutation of (channel, pixel) positions. Every float weight :math:`W[o, i, v]` equals
:math:`W[\pi_h o, \pi_h i, h^{-1} v]` exactly (after :func:`symmetrize_`: both are the mean of one
orbit, computed once). Then, layer by layer,

1. *quantize the input*: :math:`q(x) = \mathrm{clamp}(\mathrm{round}(x / s) + z)` with one
   per-tensor scale and zero point is elementwise, so :math:`q(P_h x) = P_h q(x)`.
2. *weights*: batch-norm folding multiplies the row of output channel :math:`o` by
   :math:`\gamma_o / \sigma_o`, equal on an orbit (field statistics repeated over samples), so the
   folded rows of :math:`o` and :math:`\pi_h o` are the same numbers permuted. The per-channel
   symmetric scale :math:`\max_{i, v} |W[o, i, v]| / 127.5` is a function of that multiset, hence
   equal on the orbit, and the elementwise rounding gives :math:`W_q[o, i, v] = W_q[\pi_h o,
   \pi_h i, h^{-1} v]` (with per-tensor weights, ``per_channel=False`` or the engine ``qnnpack``'s
   default, trivially).
   The int32 bias :math:`\mathrm{round}(b_o / (s_x s_{w, o}))` is equal on the orbit too.
3. *integer accumulation*: :math:`\sum_{i, v} (x_q - z)\, W_q` is a sum of integers, exact in int32
   whatever the order, so the accumulators of :math:`P_h x` are :math:`P_h` of those of :math:`x`;
   strides sample a set of pixels that :math:`h` maps onto itself (odd sizes), and padding adds
   the zero point, itself invariant. Requantization :math:`\mathrm{round}(m_o\, acc) + z'` uses a
   multiplier equal on the orbit: bitwise equal outputs. The ``x86`` / ``fbgemm`` kernels add
   pairs of u8 x s8 products in saturating int16; their default activation range of 7 bits
   (``reduce_range``) keeps every pair below :math:`2^{15}`, so no sum saturates and the order
   never matters.
4. *ReLU6, the residual add* (one requantization of two tensors with per-tensor parameters) and
   *max over the samples* of a field act elementwise or per field; the *spatial mean* sums
   integers (exact, order-free) and rounds once. The pooled features are hence bitwise invariant
   and the linear classifier gives bitwise equal logits.
"""
from __future__ import annotations

import copy
import io
import itertools
import os
from collections.abc import Iterable
from functools import cache

import torch
import torch.ao.quantization as tq
from torch import Tensor, nn

from topoequi.models.equivariant_mobilenet_v2 import EquivariantMobileNetV2
from topoequi.models.mobilenet_v2 import MobileNetV2
from topoequi.nn.conv.regular_depthwise_conv import stencil_permutations
from topoequi.nn.regular_fields import regular_field_rep
from topoequi.symmetry import Group

ENGINES = ("x86", "fbgemm", "qnnpack")


def check_engine(engine: str) -> str:
    """``engine`` if this torch build and platform support it, else a one-line error naming the choices."""
    available = [e for e in ENGINES if e in torch.backends.quantized.supported_engines]
    if engine not in available:
        raise ValueError(f"quantize: engine {engine!r} is not available on this platform; expected one of "
                         f"{available} (torch.backends.quantized.supported_engines)")
    return engine


def sample_permutations(group: Group) -> Tensor:
    r"""``[|G|, |G|]``: row ``h`` is :math:`\pi_h`, :math:`(\rho(h) x)_s = x_{\pi_h(s)}` on one regular
    field in the sample basis, for the elements in the order of ``group.elements()``."""
    mats = regular_field_rep(group, 1).matrices(group.elements())
    return mats.round().argmax(-1)


def _channel_permutations(channels: int, perms: Tensor, invariant: bool) -> Tensor:
    if invariant:
        return torch.arange(channels).expand(perms.shape[0], channels)
    n = perms.shape[1]
    fields = torch.arange(channels // n)[:, None] * n
    return (fields[None] + perms[:, None, :]).reshape(perms.shape[0], channels)


def weight_orbits(conv: nn.Conv2d, group: Group, invariant_input: bool = False) -> Tensor:
    r"""Orbit labels ``[conv.weight.numel()]`` of the entries of a convolution between regular fields
    of ``group`` (invariant channels in, with ``invariant_input``): entries :math:`(o, i, v)` and
    :math:`(\pi_h o, \pi_h i, h^{-1} v)` share the label (the smallest flat index of the orbit)."""
    out_c, in_per_group, k, _ = conv.weight.shape
    return _orbits(out_c, in_per_group, k, conv.groups, group, invariant_input).to(conv.weight.device)


@cache
def _orbits(out_c: int, in_per_group: int, k: int, groups: int, group: Group, invariant_input: bool) -> Tensor:
    perms = sample_permutations(group)
    out_per_group = out_c // groups
    p_out = _channel_permutations(out_c, perms, False)
    p_in = _channel_permutations(in_per_group * groups, perms, invariant_input)
    stencil = stencil_permutations(group.elements(), k)
    o, j, v = torch.meshgrid(torch.arange(out_c), torch.arange(in_per_group), torch.arange(k * k), indexing="ij")
    i = o // out_per_group * in_per_group + j
    o2, i2, v2 = p_out[:, o], p_in[:, i], stencil[:, v]
    j2 = i2 - o2 // out_per_group * in_per_group
    if ((j2 < 0) | (j2 >= in_per_group)).any():
        raise ValueError("weight_orbits: the channel groups of the convolution are not unions of fields")
    return ((o2 * in_per_group + j2) * k * k + v2).amin(0).reshape(-1)


def _orbit_mean(values: Tensor, labels: Tensor) -> Tensor:
    flat = values.reshape(-1)
    means = torch.zeros_like(flat).scatter_reduce(0, labels, flat, "mean", include_self=False)
    return means[labels].view_as(values)


@torch.no_grad()
def symmetrize_(model: nn.Module, group: Group) -> nn.Module:
    """Project, in place, the weights and biases of every ``nn.Conv2d`` of an exported equivariant
    network (:meth:`EquivariantMobileNetV2.export`, also after quantization-aware training) onto
    the equivariant ones: each orbit (:func:`weight_orbits`) gets its mean, bitwise equal on it."""
    for idx, conv in enumerate(m for m in model.modules() if isinstance(m, nn.Conv2d)):
        conv.weight.copy_(_orbit_mean(conv.weight, weight_orbits(conv, group, invariant_input=idx == 0)))
        if conv.bias is not None:
            fields = conv.bias.view(-1, group.order)
            conv.bias.copy_(fields.mean(1, keepdim=True).expand_as(fields).reshape(-1))
    return model


class ContiguousReLU6(nn.ReLU6):
    """ReLU6 on a contiguous copy: with the ``qnnpack`` engine (torch 2.13), the quantized ReLU6 /
    hardtanh / clamp of a channels-last tensor returns wrong values (quantized convolutions return
    channels-last tensors). Not swapped by the quantization mappings, it runs ``relu6`` on the
    quantized tensor itself."""

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.relu6(x.contiguous())


def _fused(model: MobileNetV2, engine: str) -> nn.Module:
    """A copy in ``eval()`` with every batch norm folded into its convolution, between quant stubs."""
    model = copy.deepcopy(model).float().cpu().eval()
    for module in model.modules():
        if engine == "qnnpack":
            for name, child in module.named_children():
                if type(child) is nn.ReLU6:
                    setattr(module, name, ContiguousReLU6())
        if isinstance(module, nn.Sequential):
            names = list(dict(module.named_children()))
            pairs = [[a, b] for a, b in itertools.pairwise(names)
                     if isinstance(module.get_submodule(a), nn.Conv2d)
                     and isinstance(module.get_submodule(b), nn.BatchNorm2d)]
            if pairs:
                tq.fuse_modules(module, pairs, inplace=True)
    return tq.QuantWrapper(model)


SPREAD = 8.0
"""``per_channel="spread"``: a convolution whose largest output-channel weight range exceeds ``SPREAD`` times
its median one gets one scale per channel (with one per tensor its median channel would keep under 16 of the
127 levels of each sign), the others one per tensor."""
PER_CHANNEL = (None, True, False, "spread")


def _qconfig(engine: str, qat: bool, per_channel: bool | None) -> tq.QConfig:
    """The engine's default configuration; ``per_channel`` True / False overrides its weight scales
    (one per output channel / one per tensor; ``x86`` and ``fbgemm`` default to the first, ``qnnpack``
    to the second). The activation observers stay the engine's (``x86``: 7-bit range, see above)."""
    default = (tq.get_default_qat_qconfig if qat else tq.get_default_qconfig)(engine)
    if per_channel is None:
        return default
    weight = {(False, False): tq.default_weight_observer, (False, True): tq.default_per_channel_weight_observer,
              (True, False): tq.default_fused_wt_fake_quant,
              (True, True): tq.default_fused_per_channel_wt_fake_quant}[qat, per_channel]
    return tq.QConfig(activation=default.activation, weight=weight)


def channel_spread(conv: nn.Conv2d) -> float:
    r"""Largest over median of the output channels' weight ranges :math:`\max_{i, v} |W[o, i, v]|`."""
    ranges = conv.weight.detach().abs().flatten(1).amax(1)
    return float(ranges.max() / ranges.median().clamp_min(torch.finfo(ranges.dtype).tiny))


def _set_qconfig(model: nn.Module, engine: str, qat: bool, per_channel: bool | None | str) -> None:
    """``per_channel`` as in :func:`quantize_static`; with ``"spread"`` chosen per convolution (:data:`SPREAD`)
    on the weights with batch norms folded, as they are quantized. Every choice is per layer, so the
    orbits of a layer share their scales either way and the invariance argument above holds."""
    if per_channel not in PER_CHANNEL or (per_channel is not None and type(per_channel) not in (bool, str)):
        raise TypeError(f"quantize: per_channel must be one of {PER_CHANNEL}, got {per_channel!r}")
    model.qconfig = _qconfig(engine, qat, False if per_channel == "spread" else per_channel)
    if per_channel == "spread":
        for conv in (m for m in model.modules() if isinstance(m, nn.Conv2d)):
            if channel_spread(conv) > SPREAD:
                conv.qconfig = _qconfig(engine, qat, True)


def _prepared(model: nn.Module, engine: str, qat: bool,
              per_channel: bool | None | str) -> tuple[nn.Module, Group | None]:
    """The fused, symmetrized network with observers (fake quantization with ``qat``), and its group."""
    torch.backends.quantized.engine = check_engine(engine)
    if isinstance(model, EquivariantMobileNetV2):
        plain, group = model.export(), model.group
    elif isinstance(model, MobileNetV2) and model.group_size == 1:
        plain, group = model, None
    else:
        raise TypeError(f"quantize: model must be an EquivariantMobileNetV2 or a plain MobileNetV2, got "
                        f"{type(model).__name__}")
    wrapped = _fused(plain, engine)
    if group is not None:
        symmetrize_(wrapped, group)
    _set_qconfig(wrapped, engine, qat, per_channel)
    return (tq.prepare_qat(wrapped.train(), inplace=True) if qat else tq.prepare(wrapped, inplace=True)), group


def _images(batch) -> Tensor:
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    return (x.image if hasattr(x, "image") else x).float().cpu()


@torch.no_grad()
def quantize_static(model: nn.Module, calibration: Iterable, engine: str = "x86",
                    per_channel: bool | None | str = None) -> nn.Module:
    """Post-training static quantization to int8: observe the activations on the ``calibration``
    batches (images, ``(images, labels)`` or batches with ``image``), then convert. Returns a CPU
    module ``float images -> float logits`` running int8 kernels of ``engine``; ``per_channel``: weight
    scales per output channel (True), per tensor (False), the engine's default (None), or per channel only in
    the convolutions whose channels' weight ranges spread more than :data:`SPREAD` times (``"spread"``)."""
    prepared, _ = _prepared(model, engine, False, per_channel)
    seen = 0
    for batch in calibration:
        prepared(_images(batch))
        seen += 1
    if not seen:
        raise ValueError("quantize_static: calibration must hold at least one batch")
    return tq.convert(prepared, inplace=True)


def quantize_qat(model: nn.Module, batches: Iterable, engine: str = "x86", epochs: int = 1,
                 lr: float = 1e-3, per_channel: bool | None | str = None) -> nn.Module:
    """Quantization-aware training to int8: fake-quantized weights and activations, trained with SGD
    (momentum 0.9) on ``(images, labels)`` batches for ``epochs`` passes; for an equivariant network
    every step is projected back onto the equivariant weights (:func:`symmetrize_`), which is
    projected gradient descent. Dropout is off: the passes fine-tune a trained network to its
    quantization, and dropout's noise would only make the result depend on the random state. Then
    converted like :func:`quantize_static` (``per_channel`` as there)."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"quantize_qat: epochs must be a positive int, got {epochs!r}")
    prepared, group = _prepared(model, engine, True, per_channel)
    for module in prepared.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    optimizer = torch.optim.SGD(prepared.parameters(), lr=lr, momentum=0.9)
    for _ in range(epochs):
        for batch in batches:
            images, labels = batch if isinstance(batch, (tuple, list)) else (batch.image, batch.y)
            loss = nn.functional.cross_entropy(prepared(images.float().cpu()), labels.cpu())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if group is not None:
                symmetrize_(prepared, group)
    return tq.convert(prepared.eval(), inplace=True)


def save_quantized(model: nn.Module, path: str | os.PathLike, example: Tensor) -> int:
    """Trace the quantized module on ``example`` images, freeze it (weights inlined as constants, the
    per-call work of the module attributes gone) and save it as TorchScript (``torch.jit.load`` reads it
    back with no topoequi installed, on the same engine). Returns the file size in bytes."""
    with torch.no_grad():
        traced = torch.jit.freeze(torch.jit.trace(model.eval(), example.float().cpu()))
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    data = buffer.getvalue()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def load_quantized(path: str | os.PathLike, engine: str = "x86") -> torch.jit.ScriptModule:
    """A module written by :func:`save_quantized`, for ``engine``."""
    torch.backends.quantized.engine = check_engine(engine)
    return torch.jit.load(str(path), map_location="cpu")
