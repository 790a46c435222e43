"""The conversion's structure: converters/ is a leaf, isolated children are functions, and one code
fingerprint covers everything a conversion result depends on."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from converters import paddle_lite
from converters.isolate import _target_name, run_isolated
from edge_kit.conversion.fingerprint import ROOTS, code_fingerprint, conversion_code_files, covered_files

ROOT = Path(__file__).resolve().parent.parent


def test_converters_import_nothing_from_edge_kit():
    found = []
    for f in sorted((ROOT / "converters").glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{f.name}:{node.lineno} {n}" for n in names if n.split(".")[0] == "edge_kit"]
    assert found == []


def test_children_are_named_by_function_not_by_string():
    assert _target_name(paddle_lite.child_opt) == "converters.paddle_lite:child_opt"

    def nested():
        return 1

    for bad in ("converters.paddle_lite:child_opt", nested, lambda: 1):
        with pytest.raises(TypeError, match="module-level function"):
            run_isolated(bad, {}, model="m", stage="s", tool="t")


def _copy_tree(tmp_path) -> dict[str, Path]:
    for pkg in ("edge_kit", "converters"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.csv", "*.json"))
    return {"edge_kit": tmp_path / "edge_kit", "converters": tmp_path / "converters"}


def test_fingerprint_covers_what_a_conversion_runs(tmp_path):
    packages = _copy_tree(tmp_path)
    covered = covered_files(ROOTS, ("converters",), packages)
    # the two files the old hand-kept list missed, lazy imports, the int8 recipe, script-started children
    for module in ("edge_kit.images", "edge_kit.manifest", "edge_kit.conversion.int8_stages", "edge_kit.int8_baseline",
                   "edge_kit.datasets", "edge_kit.conversion.zoo_export", "edge_kit.zoo.build", "edge_kit.parity",
                   "edge_kit.postprocess.yolo", "edge_kit.runtimes.litert", "edge_kit.formats", "edge_kit.arm_check",
                   "edge_kit",
                   "converters._child", "converters.arm_tflite_runner", "converters.paddle_lite"):
        assert module in covered, module
    assert "edge_kit.report" not in covered and "edge_kit.cli" not in covered
    assert set(conversion_code_files()) == set(covered)  # the real tree: the same rule, the same modules

    before = code_fingerprint(ROOTS, ("converters",), packages)
    assert code_fingerprint(ROOTS, ("converters",), packages) == before  # deterministic
    for rel in ("edge_kit/images.py", "edge_kit/manifest.py", "edge_kit/int8_baseline.py",
                "converters/arm_tflite_runner.py", "edge_kit/conversion/zoo_export.py"):
        f = tmp_path / rel
        original = f.read_bytes()
        f.write_bytes(original + b"\n# changed\n")
        assert code_fingerprint(ROOTS, ("converters",), packages) != before, rel
        f.write_bytes(original)
    # code a conversion never runs does not invalidate the cache
    (tmp_path / "edge_kit" / "report" / "__init__.py").write_text("# changed\n")
    assert code_fingerprint(ROOTS, ("converters",), packages) == before


def test_zoo_network_code_is_walked_from_its_builder(tmp_path):
    packages = _copy_tree(tmp_path)
    roots = ("edge_kit.zoo.deeplab", "edge_kit.zoo.build")
    covered = covered_files(roots, packages=packages)
    assert {"edge_kit.zoo.deeplab", "edge_kit.zoo.dense_backbones", "edge_kit.zoo.mobilenet_v3"} <= set(covered)
    before = code_fingerprint(roots, packages=packages)
    dep = tmp_path / "edge_kit" / "zoo" / "mobilenet_v3.py"  # imported by deeplab through dense_backbones
    dep.write_text(dep.read_text() + "\n# changed\n")
    assert code_fingerprint(roots, packages=packages) != before


def test_import_walk_memo_follows_content_and_survives_a_bad_memo(tmp_path, monkeypatch):
    """The import walk's parse results are kept by content (fingerprint._ImportMemo): an edited module's new
    imports are walked, and a corrupt memo file costs a parse, not a wrong walk."""
    from edge_kit.conversion.fingerprint import module_files

    monkeypatch.setenv("EDGEKIT_CACHE", str(tmp_path / "cache"))
    pkg = tmp_path / "src" / "edge_kit"
    pkg.mkdir(parents=True)
    for name, body in {"__init__.py": "", "a.py": "from edge_kit import b\n", "b.py": "", "c.py": ""}.items():
        (pkg / name).write_text(body)
    packages = {"edge_kit": pkg}
    assert set(module_files(("edge_kit.a",), packages)) == {"edge_kit", "edge_kit.a", "edge_kit.b"}
    memo = tmp_path / "cache" / "code_imports.json"
    assert memo.is_file()
    (pkg / "a.py").write_text("from edge_kit import c\n")  # same file, new content: walked again
    assert set(module_files(("edge_kit.a",), packages)) == {"edge_kit", "edge_kit.a", "edge_kit.c"}
    memo.write_text("{not json")
    assert set(module_files(("edge_kit.a",), packages)) == {"edge_kit", "edge_kit.a", "edge_kit.c"}
