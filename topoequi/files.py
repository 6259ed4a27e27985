"""Where topoequi keeps its files and how it writes them.

- :func:`cache_home`: the one folder for caches, ``$TOPOEQUI_HOME`` (default ``~/.cache/topoequi``).
- :func:`atomic_write`: a reader sees the old file or the new one, never half of one
  (write to a temporary file in the same folder, ``fsync``, ``os.replace``);
  :func:`atomic_save` / :func:`load_checkpoint`: checkpoints (``torch.save``, ``weights_only`` loads).
- :class:`RunFolder`: an output folder held by one run at a time (an exclusive ``flock`` on
  ``OUT/.lock``, released by the kernel when the process ends, however it ends).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

OUTPUT_MODE = 0o644
"""Permissions of every file topoequi writes (checkpoints included), before the umask."""


def cache_home() -> Path:
    """``$TOPOEQUI_HOME``, else ``~/.cache/topoequi``."""
    env = os.environ.get("TOPOEQUI_HOME")
    return Path(env) if env else Path.home() / ".cache" / "topoequi"


def atomic_write(path: str | os.PathLike, content: str | bytes | Callable[[IO[bytes]], None]) -> Path:
    """Write ``content`` (text, bytes, or a function writing to a binary file) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(content):
                content(f)
            else:
                f.write(content.encode() if isinstance(content, str) else content)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, OUTPUT_MODE & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_json(path: str | os.PathLike, obj) -> Path:
    """Strict JSON (``NaN`` / ``inf`` are refused with a ``ValueError``), written atomically."""
    return atomic_write(path, json.dumps(obj, indent=1, allow_nan=False, default=str) + "\n")


def atomic_save(obj, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` made atomic (:func:`atomic_write`)."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))


def load_checkpoint(path: str | os.PathLike, expected_config: dict | None = None,
                    map_location="cpu") -> dict:
    """Load a checkpoint saved by :func:`atomic_save` (``weights_only=True``, tensors on the CPU by default,
    so a checkpoint written on a GPU loads anywhere).

    If ``expected_config`` is given, the checkpoint's ``"config"`` entry must
    agree with it on every key it contains, otherwise a ``ValueError`` lists
    the keys that differ (a checkpoint of another model or configuration).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint '{path}' does not exist")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ValueError(f"checkpoint '{path}' is corrupt or not a topoequi checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict):
        raise ValueError(f"checkpoint '{path}' holds a {type(ckpt).__name__}, expected a dict")  # noqa: TRY004
    if expected_config is not None:
        saved = ckpt.get("config", {})
        diff = {k: (saved.get(k), v) for k, v in expected_config.items() if saved.get(k) != v}
        if diff:
            lines = ", ".join(f"{k}: checkpoint={a!r} vs requested={b!r}" for k, (a, b) in diff.items())
            raise ValueError(f"checkpoint '{path}' was written for another configuration ({lines})")
    return ckpt


class RunFolder:
    """Hold ``path`` for one run: created if missing, locked exclusively until :meth:`release`.

    A second holder fails at once with a ``FileExistsError`` naming the process that holds it.
    ``marker`` names the file whose presence means the folder already holds a run: it is refused
    unless ``resume`` (continue it) or ``overwrite`` (the run's own files are replaced as it goes).

    Args:
        path: the output folder.
        resume (bool): continue the run in ``path``. (default: ``False``)
        overwrite (bool): start afresh in a folder that holds a run. (default: ``False``)
        marker (str): the file a finished or interrupted run leaves. (default: ``"last.pt"``)
    """

    def __init__(self, path: str | os.PathLike, resume: bool = False, overwrite: bool = False,
                 marker: str = "last.pt") -> None:
        self.path = Path(path)
        self._fd: int | None = None
        if self.path.exists() and not self.path.is_dir():
            raise FileExistsError(f"--out '{self.path}' is a file, expected a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        held = (self.path / marker).exists()
        if held and not (resume or overwrite):
            self.release()
            raise FileExistsError(f"--out '{self.path}' already holds a run; pass --resume to continue it, "
                                  "--overwrite to replace it, or choose another folder")

    def _lock(self) -> None:
        import fcntl

        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, OUTPUT_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise FileExistsError(f"--out '{self.path}' is in use by {holder}; wait for it to finish "
                                  "or choose another folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} on {os.uname().nodename}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the folder up (also done by the kernel when the process ends)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()
