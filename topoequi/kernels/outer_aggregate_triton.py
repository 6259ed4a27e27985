r"""Opt-in Triton kernels of the neighbourhood contraction of the steerable convolutions,

.. math::
    A_i = \sum_{j \to i} h_{ji} \otimes x_j \in \mathbb{R}^{d_h \times d_x},

the same map as :func:`topoequi.nn.conv.steerable_message_passing.outer_aggregate` (the reference, and the
default everywhere). Edges are sorted by target once (CSR offsets ``rowptr``, counted with ``index_add_``: no
host read, so the call can be captured in a CUDA graph); then

- forward: one program per (target node, tile of :math:`d_h`, tile of :math:`d_x`) walks the node's edges and
  accumulates the outer products in registers; nothing per edge is written;
- backward: one program per edge reads :math:`G = \partial L / \partial A_i` of its target and writes
  :math:`\partial L / \partial h_{ji} = G\, x_j` and the message :math:`h_{ji}^\top G` to its source, summed
  into :math:`\partial L / \partial x_j` by ``index_add_``.

Used only when asked for (:func:`enabled`: ``TOPOEQUI_TRITON=1`` and Triton installed, on CUDA or under
``TRITON_INTERPRET=1``). Checked against the reference with Triton's interpreter on the CPU; its speed on a
GPU is not measured here.
"""
from __future__ import annotations

import os

import torch
from torch import Tensor

try:
    import triton
    import triton.language as tl
except ImportError:  # the reference path needs nothing of this module
    triton = tl = None


def available() -> bool:
    """Whether Triton is installed."""
    return triton is not None


def enabled(x: Tensor) -> bool:
    """Whether the steerable convolutions should call :func:`outer_aggregate_triton` on ``x``: asked for with
    ``TOPOEQUI_TRITON=1``, Triton installed, and ``x`` on CUDA (or Triton's CPU interpreter on)."""
    if os.environ.get("TOPOEQUI_TRITON", "0") in ("", "0") or not available():
        return False
    return x.device.type == "cuda" or os.environ.get("TRITON_INTERPRET", "0") == "1"


if triton is not None:
    @triton.jit
    def _segment_outer_kernel(h_ptr, x_ptr, src_ptr, rowptr_ptr, out_ptr, dh, dx,
                              BLOCK_A: tl.constexpr, BLOCK_B: tl.constexpr, ACC: tl.constexpr):
        node = tl.program_id(0)
        offs_a = tl.program_id(1) * BLOCK_A + tl.arange(0, BLOCK_A)
        offs_b = tl.program_id(2) * BLOCK_B + tl.arange(0, BLOCK_B)
        mask_a, mask_b = offs_a < dh, offs_b < dx
        start = tl.load(rowptr_ptr + node)
        end = tl.load(rowptr_ptr + node + 1)
        acc = tl.zeros((BLOCK_A, BLOCK_B), dtype=ACC)  # float32 for half / bfloat16 inputs
        for e in range(start, end):
            j = tl.load(src_ptr + e)
            hv = tl.load(h_ptr + e * dh + offs_a, mask=mask_a, other=0.0).to(ACC)
            xv = tl.load(x_ptr + j * dx + offs_b, mask=mask_b, other=0.0).to(ACC)
            acc += hv[:, None] * xv[None, :]
        out = out_ptr + node.to(tl.int64) * dh * dx + offs_a[:, None] * dx + offs_b[None, :]
        tl.store(out, acc, mask=mask_a[:, None] & mask_b[None, :])

    @triton.jit
    def _edge_grad_kernel(grad_ptr, h_ptr, x_ptr, src_ptr, dst_ptr, grad_h_ptr, msg_ptr, dh, dx,
                          BLOCK_A: tl.constexpr, BLOCK_B: tl.constexpr):
        e = tl.program_id(0)
        offs_a, offs_b = tl.arange(0, BLOCK_A), tl.arange(0, BLOCK_B)
        mask_a, mask_b = offs_a < dh, offs_b < dx
        i = tl.load(dst_ptr + e).to(tl.int64)
        j = tl.load(src_ptr + e).to(tl.int64)
        g = tl.load(grad_ptr + i * dh * dx + offs_a[:, None] * dx + offs_b[None, :],
                    mask=mask_a[:, None] & mask_b[None, :], other=0.0)
        hv = tl.load(h_ptr + e * dh + offs_a, mask=mask_a, other=0.0)
        xv = tl.load(x_ptr + j * dx + offs_b, mask=mask_b, other=0.0)
        tl.store(grad_h_ptr + e * dh + offs_a, tl.sum(g * xv[None, :], axis=1), mask=mask_a)
        tl.store(msg_ptr + e * dx + offs_b, tl.sum(g * hv[:, None], axis=0), mask=mask_b)


def _block(width: int, cap: int) -> int:
    return min(triton.next_power_of_2(max(width, 1)), cap)


class _SegmentOuter(torch.autograd.Function):
    """``A`` from target-sorted edges: ``h`` [E, dh] (sorted), ``x`` [N_src, dx], ``src`` / ``dst`` [E] (sorted
    by ``dst``), ``rowptr`` [N + 1]."""

    @staticmethod
    def forward(ctx, h: Tensor, x: Tensor, src: Tensor, dst: Tensor, rowptr: Tensor) -> Tensor:
        num_nodes, (dh, dx) = rowptr.numel() - 1, (h.shape[1], x.shape[1])
        out = torch.empty(num_nodes, dh, dx, dtype=h.dtype, device=h.device)
        block_a, block_b = _block(dh, 32), _block(dx, 64)
        grid = (num_nodes, triton.cdiv(dh, block_a), triton.cdiv(dx, block_b))
        if num_nodes:
            acc = tl.float64 if h.dtype == torch.float64 else tl.float32
            _segment_outer_kernel[grid](h, x, src, rowptr, out, dh, dx, BLOCK_A=block_a, BLOCK_B=block_b, ACC=acc)
        ctx.save_for_backward(h, x, src, dst)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        h, x, src, dst = ctx.saved_tensors
        grad = grad.contiguous()
        dh, dx = h.shape[1], x.shape[1]
        grad_h, msg = torch.empty_like(h), torch.empty(h.shape[0], dx, dtype=h.dtype, device=h.device)
        if h.shape[0]:
            _edge_grad_kernel[(h.shape[0],)](grad, h, x, src, dst, grad_h, msg, dh, dx,
                                             BLOCK_A=_block(dh, 1 << 20), BLOCK_B=_block(dx, 1 << 20))
        grad_x = torch.zeros_like(x).index_add_(0, src, msg)
        return grad_h, grad_x, None, None, None


def outer_aggregate_triton(kernel: Tensor, x: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
    """:math:`A_i = \\sum_{j \\to i} h_{ji} \\otimes x_j` ``[num_nodes, d_h, d_x]`` by the Triton kernels
    (differentiable in ``kernel`` and ``x``; same result as the pure-torch ``outer_aggregate``)."""
    if not available():
        raise ImportError("outer_aggregate_triton needs Triton (pip install triton)")
    if kernel.dtype != x.dtype or kernel.device != x.device:
        raise TypeError(f"outer_aggregate_triton: kernel ({kernel.dtype}, {kernel.device}) and x "
                        f"({x.dtype}, {x.device}) must match")
    src, dst = edge_index
    order = torch.argsort(dst, stable=True)
    dst_sorted, src_sorted = dst.index_select(0, order), src.index_select(0, order)
    counts = torch.zeros(num_nodes, dtype=torch.long, device=dst.device).index_add_(
        0, dst_sorted, torch.ones_like(dst_sorted))
    rowptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
    h = kernel.index_select(0, order).contiguous()
    return _SegmentOuter.apply(h, x.contiguous(), src_sorted.contiguous(), dst_sorted.contiguous(), rowptr)
