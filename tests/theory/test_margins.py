"""Margins of a classifier, the margin loss, the input-norm bound, and refused datasets."""
import pytest
import torch
from torch import nn

from topoequi.theory import input_norm_bound, margin_loss, margins


@pytest.fixture
def linear_classifier():
    """Three classes scored by a bias-free linear map with known rows."""
    model = nn.Sequential(nn.Linear(2, 3, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    return model


def test_margins_are_the_true_score_minus_the_best_other(linear_classifier):
    images = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 1.0], [-1.0, 0.5]], dtype=torch.float64)
    labels = torch.tensor([2, 1, 0, 0])
    # scores (x, y, x + y): [2, 1, 3], [0, 3, 3], [1, 1, 2], [-1, 0.5, -0.5]
    expected = torch.tensor([3 - 2, 3 - 3, 1 - 2, -1 - 0.5], dtype=torch.float64)
    linear_classifier.train()
    values = margins(linear_classifier, images, labels)
    assert values.dtype == torch.float64 and torch.equal(values, expected)
    assert linear_classifier.training  # the mode is restored
    assert torch.equal(margins(linear_classifier, images, labels, batch_size=3), expected)


def test_margin_loss_counts_margins_at_most_gamma():
    values = torch.tensor([-1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
    assert margin_loss(values, 0.5) == 0.75  # a margin equal to gamma counts as a loss
    assert margin_loss(values, 0.0) == 0.5
    assert margin_loss(values, -2.0) == 0.0 and margin_loss(values, 2.0) == 1.0


def test_input_norm_bound_is_the_largest_flattened_norm():
    images = torch.tensor([[[3.0, 0.0], [0.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]]])
    assert input_norm_bound(images) == 5.0
    assert input_norm_bound(torch.tensor([[1.0, 0.0], [0.0, -2.0]])) == 2.0


def test_refused_datasets_name_what_is_wrong(linear_classifier):
    images = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"margins: labels must be a \[3\] tensor, one per image"):
        margins(linear_classifier, images, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"margins: the dataset has no examples \(images of shape \[0, 2\]\)"):
        margins(linear_classifier, images[:0], torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"the dataset has no examples \(images of shape list\)"):
        margins(linear_classifier, [[0.0, 0.0]], torch.zeros(1, dtype=torch.long))
