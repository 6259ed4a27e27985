r"""Opt-in: the training step of a :class:`~topoequi.models.SteerableMoleculeNet` captured once as a CUDA graph
and replayed at every batch (``topoequi train qm9 --cuda-graph``, CUDA only).

A CUDA graph replays the kernels of one step with a single launch, so the host no longer pays a launch per
kernel; it needs the same shapes and the same memory at every replay. The step therefore runs on batches
padded to a fixed :class:`~topoequi.loader.static_shapes.ShapeBudget` (exactly the unpadded step on the real
molecules: :mod:`topoequi.train.static_step`), copied into static input tensors before each replay:

1. per batch, outside the graph: the radius graph and the edge attributes (their sizes depend on the batch),
   padding, the copy into the static inputs;
2. the captured region: forward pass, masked loss, backward pass (the gradients, allocated during capture,
   are written in place at every replay) and gradient clipping;
3. after the replay, the optimizer step, eagerly (a learning rate that a schedule changes is then read at
   every step; with ``foreach`` or ``fused`` AdamW it is a few launches).

The capture follows PyTorch's recipe for whole-network capture (``torch.cuda.graph``): a few warm-up steps
on a side stream first (they are real training steps), gradients set to ``None`` before the capture. A batch
over the budget is trained eagerly, unpadded; if the capture itself fails (an operation that is not
capturable), the step warns once and stays eager on padded batches.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from topoequi.loader.static_shapes import PaddedBatch, ShapeBudget
from topoequi.train.engine import Trainer, to_device
from topoequi.train.static_step import check_static_model, pad_molecules, padded_forward, padded_loss


def check_cuda_graph_args(device: torch.device, model: str, devices: int, precision: str) -> None:
    """Refuse, with one line naming ``--cuda-graph``, what the captured step cannot run."""
    if device.type != "cuda":
        raise ValueError(f"--cuda-graph captures the training step as a CUDA graph; it needs a CUDA --device, "
                         f"got {device}")
    if model not in ("implicit", "steerable"):
        raise ValueError(f"--cuda-graph runs the implicit and steerable models, got --model {model}")
    if devices > 1:
        raise ValueError(f"--cuda-graph runs in one process, got --devices {devices}")
    if precision == "bf16-mixed":
        raise ValueError("--cuda-graph runs float32 or tf32, got --precision bf16-mixed")


class GraphedStep:
    """One optimizer step of ``model`` per call on batches padded to ``budget``; the forward and backward
    pass are captured as a CUDA graph after ``warmup`` eager steps (``capture=True``, CUDA only) or always
    run eagerly on the padded batch (``capture=False``, any device: the same arithmetic, for tests).

    Calling it with a PyG ``Batch`` on the model's device returns the sum of the batch's per-graph losses
    (a device tensor, valid until the next call) and its number of graphs.
    """

    def __init__(self, model, optimizer, loss_fn, budget: ShapeBudget, grad_clip: float | None = None,
                 capture: bool = True, warmup: int = 3) -> None:
        check_static_model(model)
        device = next(model.parameters()).device
        if capture and device.type != "cuda":
            raise ValueError(f"GraphedStep: capture needs a CUDA device, the model is on {device}")
        self.model, self.optimizer, self.loss_fn, self.budget = model, optimizer, loss_fn, budget
        self.grad_clip, self.capture, self.warmup = grad_clip, capture, warmup
        self.static: PaddedBatch | None = None
        self.graph, self.loss_sum, self.failed = None, None, None
        self.eager_steps = self.unpadded_steps = self.replays = 0

    def _clip(self) -> None:
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)

    def _zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=self.graph is None)  # the captured gradients stay in place

    def _unpadded(self, batch) -> Tensor:
        self._zero_grad()
        losses = self.loss_fn(self.model(batch), batch)
        losses.mean().backward()
        self._clip()
        self.optimizer.step()
        self.unpadded_steps += 1
        return losses.detach().sum()

    def _padded(self) -> Tensor:
        self._zero_grad()
        loss, total = padded_loss(self.loss_fn, padded_forward(self.model, self.static), self.static)
        loss.backward()
        self._clip()
        self.optimizer.step()
        self.eager_steps += 1
        return total.detach()

    def _warm_up(self) -> Tensor:
        side = torch.cuda.Stream(self.static.pos.device)
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            total = self._padded()
        torch.cuda.current_stream().wait_stream(side)
        return total

    def _capture_graph(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                loss, total = padded_loss(self.loss_fn, padded_forward(self.model, self.static), self.static)
                loss.backward()
                self._clip()
        except RuntimeError as exc:
            self.failed = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            warnings.warn(f"--cuda-graph: the training step could not be captured ({self.failed}); it runs eagerly "
                          "on padded batches", stacklevel=3)
            self.optimizer.zero_grad(set_to_none=True)
            return
        self.graph, self.loss_sum = graph, total.detach()

    def __call__(self, batch) -> tuple[Tensor, int]:
        padded = pad_molecules(self.model, batch, self.budget)
        if padded is None:
            return self._unpadded(batch), batch.num_graphs
        if self.static is None:
            self.static = padded  # freshly allocated: these tensors are the static inputs from now on
        else:
            self.static.copy_(padded)
        if not self.capture or self.failed is not None:
            return self._padded(), padded.num_graphs
        if self.graph is None and self.eager_steps < self.warmup:
            return self._warm_up(), padded.num_graphs
        if self.graph is None:
            self._capture_graph()
            if self.graph is None:
                return self._padded(), padded.num_graphs
        self.graph.replay()
        self.optimizer.step()
        self.replays += 1
        return self.loss_sum, padded.num_graphs


class GraphedTrainer(Trainer):
    """:class:`~topoequi.train.engine.Trainer` whose training steps are a :class:`GraphedStep` (budget from
    2,000 training molecules, :func:`~topoequi.loader.static_shapes.choose_budget`); evaluation is unchanged.
    ``capture`` is set after construction (default ``True``; ``False`` trains on padded batches eagerly)."""

    capture = True

    def _graphed_step(self) -> GraphedStep:
        if getattr(self, "_step", None) is None:
            from topoequi.loader.static_shapes import choose_budget
            from topoequi.train.static_step import molecule_sizes

            check_static_model(self.model)
            if self.world.size > 1:
                raise ValueError(f"--cuda-graph runs in one process, got {self.world.size}")
            sizes = molecule_sizes(self.train_set, self.model.cutoff, self.model.max_num_neighbors,
                                   seed=self.config.seed)
            budget = choose_budget(*sizes, batch_size=self.config.batch_size, max_degree=self.model.max_num_neighbors)
            self._step = GraphedStep(self.model, self.optimizer, None, budget, self.config.grad_clip, self.capture)
        self._step.loss_fn = self.loss_fn
        return self._step

    def _train_epoch(self, epoch: int) -> float:
        self.network.train()
        step = self._graphed_step()
        unpadded = step.unpadded_steps
        total = torch.zeros(2, dtype=torch.float64, device=self.device)
        batches = self.train_batches(self, epoch) if self.train_batches else self._train_loader(epoch)
        for batch in self._bar(batches, f"epoch {epoch + 1}/{self.config.epochs}"):
            loss_sum, graphs = step(to_device(batch, self.device))
            self.steps += 1
            total[0] += loss_sum.double()
            total[1] += graphs
        if step.unpadded_steps > unpadded:
            warnings.warn(f"--cuda-graph: {step.unpadded_steps - unpadded} batch(es) of epoch {epoch + 1} exceeded "
                          f"the budget {step.budget} and ran unpadded", stacklevel=2)
        total = total.cpu()
        if not math.isfinite(float(total[0])):
            raise FloatingPointError(f"Trainer: non-finite training loss in epoch {epoch + 1}; "
                                     "last.pt still holds the previous epoch")
        return float(total[0] / total[1])
