"""Sphinx configuration of topoequi's API reference (autodoc + napoleon; the docstrings are the source).

The API pages are written here at every build, one per subpackage with a section per module, by walking
the package, so that a new module appears without editing the docs.
"""
import os
import pkgutil
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

project = "topoequi"
author = "topoequi developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "sphinx.ext.viewcode"]
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the Args sections say the types
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = [("Shapes", "params_style")]
suppress_warnings = ["ref.python"]  # names re-exported by several subpackages resolve to more than one target
html_theme = "alabaster"
exclude_patterns = ["_build"]


def _write_api_pages(folder: str) -> None:
    package = os.path.join(ROOT, "topoequi")
    os.makedirs(folder, exist_ok=True)
    for sub in sorted(m.name for m in pkgutil.iter_modules([package]) if m.ispkg):
        title = f"topoequi.{sub}"
        lines = [title, "=" * len(title), "", f".. automodule:: {title}", "   :no-members:", ""]
        for info in pkgutil.walk_packages([os.path.join(package, sub)], prefix=f"{title}."):
            if not info.ispkg:
                lines += [info.name, "-" * len(info.name), "", f".. automodule:: {info.name}", ""]
        with open(os.path.join(folder, f"{sub}.rst"), "w") as f:
            f.write("\n".join(lines))


_write_api_pages(os.path.join(os.path.dirname(__file__), "api"))
