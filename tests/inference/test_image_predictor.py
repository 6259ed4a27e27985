import json

import numpy as np
import torch

import topoequi


def test_classify_reproduces_the_evaluated_error(images_ckpt):
    from topoequi.datasets.rotated_mnist import RotatedMNIST

    predictor = topoequi.load(images_ckpt)
    digits = RotatedMNIST("test", limit=predictor.config["limit"])
    predictions = predictor.predict(list(digits), batch_size=16)  # the evaluation's batches
    error = np.mean([p.label != str(int(d.y)) for p, d in zip(predictions, digits)])
    results = json.loads((predictor.path.parent / "results.json").read_text())
    assert len(predictions) == 48 and error == results["test_error"]
    assert f"test error: {100 * error:.2f}%" in predictor.describe()
    assert repr(predictor).startswith("ImagePredictor(dataset='mnist-rot', model='c4', group='C4'")


def test_files_arrays_and_quarter_turns(images_ckpt, tmp_path):
    from PIL import Image

    from topoequi.datasets.rotated_mnist import load_mnist_sample

    predictor = topoequi.load(images_ckpt)
    digit = load_mnist_sample()[0][0].numpy()  # uint8, white on black
    Image.fromarray(digit).save(tmp_path / "digit.png")
    np.save(tmp_path / "turned.npy", np.rot90(digit).copy())
    png, array, turned = predictor.predict([tmp_path / "digit.png", torch.from_numpy(digit), tmp_path / "turned.npy"])
    assert (png.name, png.size) == ("digit", "28x28 pixels")
    assert (png.label, png.probability) == (array.label, array.probability)  # the PNG holds the same 8-bit pixels
    assert turned.label == png.label and abs(turned.probability - png.probability) < 1e-6  # C4: exact on quarter turns


def test_bad_images_are_listed(images_ckpt, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    rows = topoequi.load(images_ckpt).predict([torch.zeros(32, 32), tmp_path / "scan.pdf", tmp_path / "broken.png",
                                               torch.full((28, 28), float("nan")), np.zeros((3, 28, 28))])
    assert "expected 28 x 28 pixels, got 32 x 32" in rows[0].error
    assert "unknown image format" in rows[1].error and "broken.png" in rows[2].error
    assert "NaN" in rows[3].error and "expected a grey-scale image [H, W], got shape [3, 28, 28]" in rows[4].error
