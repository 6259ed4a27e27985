"""The engine flags every training command shares: defaults, optional groups, checks that name the flag, and
the TrainConfig they make."""
import argparse

import pytest
import torch

from topoequi.train.engine import TrainConfig
from topoequi.train.options import add_engine_arguments, check_engine_arguments, engine_config


def parser(**kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_engine_arguments(parser, **kwargs)
    return parser


def test_shared_flags_and_their_defaults():
    args = parser().parse_args([])
    assert vars(args) == {"device": "auto", "precision": "float32", "threads": None, "no_progress": False,
                          "resume": False, "overwrite": False}
    args = parser(processes=True, resume=False, data_path=True).parse_args(["--devices", "2", "--data-path",
                                                                            "device", "--precision", "tf32"])
    assert (args.devices, args.data_path, args.precision) == (2, "device", "tf32") and not hasattr(args, "resume")


def test_bad_flags_are_refused_before_any_data(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--precision", "fp8"])
    assert "invalid choice: 'fp8'" in capsys.readouterr().err
    for argv, message in ((["--threads", "0"], "--threads must be at least 1, got 0"),
                          (["--resume", "--overwrite"], "--resume and --overwrite exclude each other"),
                          (["--device", "tpu"], "--device: expected auto, cpu, cuda or cuda:N, got 'tpu'")):
        with pytest.raises(ValueError) as info:
            check_engine_arguments(parser().parse_args(argv))
        assert str(info.value) == message
    with pytest.raises(ValueError, match="--devices must be at least 1, got 0"):
        check_engine_arguments(parser(processes=True).parse_args(["--devices", "0", "--device", "cpu"]))


@pytest.mark.usefixtures("one_thread")  # --threads sets the count; the fixture restores it after the module
def test_engine_config_carries_the_flags_and_the_loop_settings():
    args = parser(data_path=True).parse_args(["--device", "cpu", "--precision", "bf16-mixed", "--no-progress",
                                              "--data-path", "loader", "--threads", "1"])
    config = engine_config(args, epochs=3, lr=0.01)
    assert isinstance(config, TrainConfig) and torch.get_num_threads() == 1
    assert (config.device, config.precision, config.progress, config.data_path) == ("cpu", "bf16-mixed", False,
                                                                                    "loader")
    assert (config.epochs, config.lr, config.batch_size) == (3, 0.01, 32)
    assert engine_config(parser().parse_args([]), data_path="device").data_path == "device"
