"""The public API: ``faqtual.__all__`` is sorted and complete, and ``import faqtual`` is light."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types
from pathlib import Path

import faqtual
from faqtual import errors


def test_all_is_sorted() -> None:
    assert faqtual.__all__ == sorted(faqtual.__all__)


def test_all_is_complete_and_resolves() -> None:
    public = {
        name
        for name, value in vars(faqtual).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "TYPE_CHECKING"
        and name != "annotations"
    }
    assert public <= set(faqtual.__all__), f"not in __all__: {public - set(faqtual.__all__)}"
    for name in faqtual.__all__:
        assert getattr(faqtual, name) is not None, name


def test_every_error_is_exported() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.FaqtualError)
    }
    assert defined <= set(faqtual.__all__)


def test_lazy_exports_are_the_real_objects() -> None:
    from faqtual.factory import open_service
    from faqtual.service import FaqService

    assert faqtual.FaqService is FaqService
    assert faqtual.open_service is open_service


def test_version_matches_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "faqtual", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == f"faqtual, version {faqtual.__version__}"


def test_import_is_light() -> None:
    heavy = ["onnxruntime", "bm25s", "numpy", "tokenizers", "torch", "sentence_transformers", "click"]
    code = f"import json, sys, faqtual; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(proc.stdout) == []


def test_no_import_side_effects(tmp_path: Path) -> None:
    # Every module imports with an empty environment and writes nothing to the cwd.
    code = (
        "import os, pkgutil, importlib, faqtual\n"
        "os.environ.clear()\n"
        "for m in pkgutil.walk_packages(faqtual.__path__, 'faqtual.'):\n"
        "    if not m.name.startswith('faqtual.web'):\n"
        "        importlib.import_module(m.name)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60)
    assert list(tmp_path.iterdir()) == []
