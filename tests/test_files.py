"""``topoequi.files``: the cache folder, atomic writes, strict JSON and run-folder locks."""
import json
import math
import os
import stat

import pytest

from topoequi.files import RunFolder, atomic_write, cache_home, write_json


def test_cache_home_follows_topoequi_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TOPOEQUI_HOME", str(tmp_path))
    assert cache_home() == tmp_path
    monkeypatch.delenv("TOPOEQUI_HOME")
    assert cache_home().parts[-2:] == (".cache", "topoequi")


def test_atomic_write_replaces_whole_files_with_the_usual_permissions(tmp_path):
    path = atomic_write(tmp_path / "sub" / "a.txt", "first")
    atomic_write(path, b"second")
    atomic_write(path, lambda f: f.write(b"third"))
    assert path.read_text() == "third" and sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~umask

    def fail(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, fail)
    assert path.read_text() == "third" and len(list(path.parent.iterdir())) == 1


def test_write_json_refuses_nan(tmp_path):
    write_json(tmp_path / "ok.json", {"mae": 1.5})
    assert json.loads((tmp_path / "ok.json").read_text()) == {"mae": 1.5}
    with pytest.raises(ValueError):
        write_json(tmp_path / "bad.json", {"mae": math.nan})
    assert not (tmp_path / "bad.json").exists()


def test_run_folder_is_held_by_one_run(tmp_path):
    with RunFolder(tmp_path / "run"), pytest.raises(FileExistsError, match=f"in use by process {os.getpid()}"):
        RunFolder(tmp_path / "run")
    (tmp_path / "run" / "last.pt").write_bytes(b"")
    with pytest.raises(FileExistsError, match="already holds a run; pass --resume"):
        RunFolder(tmp_path / "run")
    RunFolder(tmp_path / "run", resume=True).release()
    RunFolder(tmp_path / "run", overwrite=True).release()
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError, match="is a file, expected a folder"):
        RunFolder(tmp_path / "file")
