r"""Empirical margins of a classifier: :math:`f(x)[y] - \max_{j \ne y} f(x)[j]`, the margin loss
:math:`\hat L_\gamma` and the input-norm bound :math:`B`."""
from __future__ import annotations

import torch
from torch import Tensor, nn


def check_examples(images: Tensor, labels: Tensor) -> None:
    if not isinstance(images, Tensor) or images.dim() < 2 or images.shape[0] == 0:
        raise ValueError(f"margins: the dataset has no examples (images of shape "
                         f"{list(images.shape) if isinstance(images, Tensor) else type(images).__name__})")
    if not isinstance(labels, Tensor) or labels.shape != images.shape[:1]:
        raise ValueError(f"margins: labels must be a [{images.shape[0]}] tensor, one per image")


@torch.no_grad()
def margins(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 500) -> Tensor:
    """``[M]`` margins (float64) of ``model`` in ``eval()`` on the examples, computed on the model's device."""
    check_examples(images, labels)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for x, y in zip(images.split(batch_size), labels.split(batch_size)):
        logits = model(x.to(device)).to(torch.float64)
        y = y.to(device)
        true = logits.gather(1, y[:, None])[:, 0]
        others = logits.scatter(1, y[:, None], float("-inf")).amax(1)
        out.append((true - others).cpu())
    model.train(was_training)
    return torch.cat(out)


def margin_loss(values: Tensor, gamma: float) -> float:
    r""":math:`\hat L_\gamma`: the fraction of examples whose margin is at most :math:`\gamma`."""
    return float((values <= gamma).double().mean())


def input_norm_bound(images: Tensor) -> float:
    """:math:`B = \\max_i \\|x_i\\|_2`."""
    return float(images.flatten(1).to(torch.float64).norm(dim=1).max())
