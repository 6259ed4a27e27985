"""What the classifiers' predictions share: the most probable class, its probability, printing and rows."""
import math

import pytest
import torch

from topoequi.inference.classification import ClassPrediction, top_class


def test_top_class_is_the_softmax_argmax_in_float64():
    logits = torch.tensor([[0.0, math.log(3.0)], [2.0, 2.0], [-1.0, 5.0]], dtype=torch.float32)
    (a, pa), (b, pb), (c, pc) = top_class(logits)
    assert (a, b, c) == (1, 0, 1)  # a tie goes to the first class
    assert pa == pytest.approx(0.75, abs=1e-7) and pb == 0.5
    assert pc == pytest.approx(1 / (1 + math.exp(-6.0)), abs=1e-7) and isinstance(pc, float)
    assert top_class(torch.zeros(0, 4)) == []


def test_a_prediction_prints_and_rows_its_fields():
    hit = ClassPrediction("chair", "chair", 0.81234, "64 points")
    miss = ClassPrediction("broken", None, None, None, error="no such file")
    assert str(hit) == "chair (64 points): chair (p = 0.812)" and str(miss) == "broken: failed: no such file"
    assert hit.row() == {"name": "chair", "size": "64 points", "label": "chair", "probability": 0.81234,
                         "error": ""}
    assert miss.row() == {"name": "broken", "size": None, "label": None, "probability": None,
                          "error": "no such file"}
