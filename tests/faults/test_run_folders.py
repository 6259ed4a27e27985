"""Faults around run folders: two runs into one folder, Ctrl-C in the middle of a run, then ``--resume``."""
import csv
import os
import signal
import subprocess
import sys
import time

from topoequi.cli import main

LATTICE = ["train", "lattice", "--dim", "3", "--eval-every", "2", "--batch-size", "4", "--valid-size", "4",
           "--hidden", "4", "--layers", "1", "--reduction-steps", "1", "--eval-steps", "1", "--no-progress"]


def topoequi(*argv: str) -> subprocess.Popen:
    """The command in a child process that takes Ctrl-C as a terminal delivers it, even when this process runs
    in the background (where shells start it with SIGINT ignored, and a child would inherit that)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    start = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "sys.argv[0] = 'topoequi'; runpy.run_module('topoequi.cli', run_name='__main__')")
    return subprocess.Popen([sys.executable, "-c", start, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def losses(out) -> list[str]:
    with open(out / "log.csv") as f:
        return [r["train_loss"] for r in csv.DictReader(f)]


def test_second_run_into_a_busy_folder_fails_at_once(tmp_path, capsys):
    script = (f"import time; from topoequi.files import RunFolder; folder = RunFolder({str(tmp_path)!r}); "
              "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.perf_counter()
        assert main([*LATTICE, "--iterations", "2", "--out", str(tmp_path)]) == 2
        assert time.perf_counter() - start < 5
        err = capsys.readouterr().err
        assert f"is in use by process {holder.pid}" in err and err.count("\n") == 1
        assert not (tmp_path / "last.pt").exists()
    finally:
        holder.kill()
        holder.wait()


def test_ctrl_c_keeps_the_checkpoint_and_resume_finishes_the_same_run(tmp_path):
    out, straight = tmp_path / "run", tmp_path / "straight"
    argv = [*LATTICE, "--iterations", "80", "--out"]
    run = topoequi(*argv, str(out))
    for line in run.stdout:
        if line.startswith("epoch 3/40"):
            run.send_signal(signal.SIGINT)
            break
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    message = (f"topoequi train lattice: interrupted; {out} keeps the checkpoints of the finished epochs "
               "(add --resume to continue)")
    assert err.strip().splitlines() == [message]
    done = len(losses(out))
    assert 3 <= done < 40
    assert main([*argv, str(out), "--resume"]) == 0
    assert main([*argv, str(straight)]) == 0
    assert losses(out) == losses(straight) and len(losses(out)) == 40
