"""When layers check input values: always on the CPU, on accelerators only in debug mode."""
import os
import subprocess
import sys

import torch

from topoequi import validation


def test_cpu_values_are_always_checked_and_others_only_in_debug_mode(monkeypatch):
    monkeypatch.setattr(validation, "_debug", False)
    cpu, meta = torch.zeros(2), torch.zeros(2, device="meta")          # meta: a tensor off the CPU
    assert validation.check_values(cpu) and not validation.check_values(meta)
    validation.set_debug(True)
    assert validation.check_values(cpu) and validation.check_values(meta)
    validation.set_debug(0)
    assert validation._debug is False and not validation.check_values(meta)


def test_the_environment_switches_debug_mode_on():
    code = "from topoequi import validation; print(validation._debug)"
    for value, expected in (("1", "True"), ("0", "False"), ("", "False")):
        env = dict(os.environ, TOPOEQUI_DEBUG=value)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected, value
