"""``make docs``: the API reference builds with every warning treated as an error."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # about 20 CPU-s: every module is imported and documented
def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    build = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                            str(ROOT / "docs"), str(tmp_path)], check=False, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    api = {p.stem for p in (tmp_path / "api").glob("*.html")}
    assert {"symmetry", "nn", "train", "topology"} <= api  # one page per subpackage
    assert (tmp_path / "tutorials" / "qm9_homo.html").is_file()
    assert "ImplicitSteerableConv" in (tmp_path / "api" / "nn.html").read_text()
