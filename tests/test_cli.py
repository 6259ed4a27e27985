"""The ``topoequi`` command: lazy sub-commands, --version, one error line for user mistakes."""
import subprocess
import sys

import pytest

from topoequi import __version__
from topoequi.cli import COMMANDS, TRAIN_TASKS, build_parser, main


def test_help_imports_no_sub_command_and_no_torch():
    code = ("import sys; from topoequi.cli import build_parser; build_parser([]).format_help(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch' or m.startswith('topoequi.train')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_registered_command_builds(capsys):
    parser = build_parser()  # all sub-commands with their arguments
    for task in TRAIN_TASKS:
        with pytest.raises(SystemExit) as info:
            parser.parse_args(["train", task, "--help"])
        assert info.value.code == 0 and "--device" in capsys.readouterr().out
    for name in COMMANDS:
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        assert "usage: topoequi " + name in capsys.readouterr().out


def test_version_and_debug(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"topoequi {__version__}"
    argv = ["train", "lattice", "--dim", "1", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err == "topoequi train lattice: error: --dim must be at least 2, got 1\n"
    with pytest.raises(ValueError, match="--dim must be at least 2"):
        main(["--debug", *argv])
