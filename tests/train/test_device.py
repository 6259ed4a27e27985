"""Devices and precision of a run: what exists here, what ``--device`` names, process counts, autocast."""
import re

import pytest
import torch

from topoequi.train.device import (
    PRECISIONS,
    autocast,
    available_devices,
    check_precision,
    check_process_count,
    describe_devices,
    resolve_device,
    set_matmul_precision,
)


def test_auto_device_is_cuda_when_there_is_one():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_device_names_resolve_or_name_the_flag():
    cuda = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    assert available_devices() == ["cpu", *cuda]
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    if cuda:
        assert resolve_device("cuda") == torch.device("cuda", 0)
    for spec in ("tpu", "cuda:x", "mps"):
        with pytest.raises(ValueError, match=f"--device: expected auto, cpu, cuda or cuda:N, got '{spec}'"):
            resolve_device(spec)
    available = ", ".join(["cpu", *cuda])
    with pytest.raises(ValueError, match=re.escape(f"--device 'cuda:99' does not exist here; available: {available}")):
        resolve_device("cuda:99")


def test_process_counts_and_precisions_are_checked():
    check_process_count(torch.device("cpu"), 3)  # CPU processes: any number
    with pytest.raises(ValueError, match="--devices must be at least 1, got 0"):
        check_process_count(torch.device("cpu"), 0)
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ValueError, match=f"--devices {gpus + 1}: only {gpus} CUDA device"):
        check_process_count(torch.device("cuda", 0), gpus + 1)
    assert [check_precision(p) for p in PRECISIONS] == ["float32", "tf32", "bf16-mixed"]
    with pytest.raises(ValueError, match="--precision: expected one of float32, tf32, bf16-mixed, got 'fp16'"):
        check_precision("fp16")


@pytest.fixture
def tf32_flags():
    """The process-wide TF32 switches, restored after the test."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.usefixtures("tf32_flags")
def test_autocast_and_tf32_follow_the_precision():
    set_matmul_precision("tf32")
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    set_matmul_precision("float32")
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    a = torch.randn(4, 4)
    with autocast(torch.device("cpu"), "bf16-mixed"):
        assert (a @ a).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "tf32"):
        assert (a @ a).dtype == torch.float32
    assert describe_devices()[0] == f"cpu: {torch.get_num_threads()} threads"
