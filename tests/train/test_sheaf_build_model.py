"""``build_model`` of ``topoequi train sheaf``: which options reach which model (no data needed)."""
import argparse

from topoequi.train.sheaf import SheafModelOptions, add_arguments, build_model


def test_signed_and_augmented_flags_reach_the_models_they_apply_to():
    # one run may train several variants: --signed-width feeds the -constant ones, --augmented-laplacian the
    # normalised ones (the attention coefficients replace the normalisation)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--dataset", "texas", "--out", "x", "--stalk-width", "4", "--signed-width", "1",
                              "--augmented-laplacian"])
    options = SheafModelOptions.from_args(args)
    models = {name: build_model(name, 5, 3, options) for name in ("conv-constant", "conv", "attention", "nsd")}
    assert {k: m.signed_width for k, m in models.items()} == {"conv-constant": 1, "conv": 0, "attention": 0, "nsd": 0}
    assert {k: m.layers[0].augmented for k, m in models.items()} == {
        "conv-constant": True, "conv": True, "attention": False, "nsd": True}
