"""The Triton neighbourhood contraction equals the pure-torch reference, forward and backward (float64, run by
Triton's interpreter on the CPU); skipped where Triton is not installed.

The comparison runs in a fresh process with ``TRITON_INTERPRET=1`` set before Triton is imported (Triton's own
helpers, such as the combine function of ``tl.sum``, are built for the interpreter only then)."""
import json
import os
import subprocess
import sys

import pytest
import torch

pytest.importorskip("triton")

COMPARE = r"""
import json, sys, torch
from topoequi.kernels.outer_aggregate_triton import outer_aggregate_triton
from topoequi.nn.conv.steerable_message_passing import outer_aggregate

out = []
for num_nodes, num_edges, dh, dx in json.loads(sys.argv[1]):
    g = torch.Generator().manual_seed(dh)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=g)
    edge_index[1, edge_index[1] == num_nodes - 1] = 0  # the last node receives nothing
    kernel = torch.randn(num_edges, dh, dtype=torch.float64, generator=g, requires_grad=True)
    x = torch.randn(num_nodes, dx, dtype=torch.float64, generator=g, requires_grad=True)
    weight = torch.randn(num_nodes, dh, dx, dtype=torch.float64, generator=g)
    ref = outer_aggregate(kernel, x, edge_index, num_nodes)
    got = outer_aggregate_triton(kernel, x, edge_index, num_nodes)
    row = {"shape": list(got.shape), "forward": float((got - ref).abs().max()) if ref.numel() else 0.0,
           "scale": float(ref.abs().max()) if num_edges else 0.0, "isolated": float(got[-1].abs().max())}
    if num_edges:
        ref_grads = torch.autograd.grad((ref * weight).sum(), (kernel, x))
        got_grads = torch.autograd.grad((got * weight).sum(), (kernel, x))
        row["grad_kernel"], row["grad_x"] = (float((t - r).abs().max()) for r, t in zip(ref_grads, got_grads))
        row["grad_scale"] = float(ref_grads[1].abs().max())
    out.append(row)
print(json.dumps(out))
"""


def test_matches_the_reference_forward_and_backward():
    cases = [(7, 30, 5, 3), (12, 80, 40, 70), (4, 0, 3, 2)]
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", COMPARE, json.dumps(cases)], check=False, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    for (n, e, dh, dx), row in zip(cases, rows, strict=True):
        assert row["shape"] == [n, dh, dx] and row["forward"] <= 1e-12 and row["isolated"] == 0
        if e:
            assert row["scale"] > 0.1 and row["grad_scale"] > 0.1
            assert row["grad_kernel"] <= 1e-12 and row["grad_x"] <= 1e-12


def test_enabled_only_when_asked_for(monkeypatch):
    from topoequi.kernels import outer_aggregate_triton as kernels

    x = torch.zeros(2, 2)
    monkeypatch.delenv("TOPOEQUI_TRITON", raising=False)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert not kernels.enabled(x)
    monkeypatch.setenv("TOPOEQUI_TRITON", "1")
    assert kernels.enabled(x) and kernels.available()  # on the CPU under the interpreter only
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert not kernels.enabled(x)
    with pytest.raises(TypeError, match="must match"):
        kernels.outer_aggregate_triton(torch.zeros(3, 2), x.double(), torch.zeros(2, 3, dtype=torch.long), 2)


CONV = r"""
import os, torch
from topoequi.nn import SteerableConv
from topoequi.symmetry import Rep

torch.manual_seed(0)
rep = Rep("3x0e+2x1o")
conv = SteerableConv(rep, rep, cutoff=3.0).double()
pos, x = torch.randn(9, 3, dtype=torch.float64), torch.randn(9, rep.dim, dtype=torch.float64)
edge_index = torch.randint(0, 9, (2, 40))
os.environ["TOPOEQUI_TRITON"] = "0"
ref = conv(x, pos, edge_index)
os.environ["TOPOEQUI_TRITON"] = "1"
print(float((conv(x, pos, edge_index) - ref).abs().max()), float(ref.abs().max()))
"""


def test_the_convolution_takes_the_kernel_when_asked_for():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", CONV], check=False, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    error, scale = map(float, done.stdout.split())
    assert error <= 1e-12 and scale > 0.1
