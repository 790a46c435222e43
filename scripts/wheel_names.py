"""Wheel build step: install the repo's top-level `converters/` and `android_runner/` as
`edge_kit.converters` and `edge_kit.android_runner`, so a wheel puts exactly one top-level name
(`edge_kit`) into site-packages and cannot overwrite another distribution's `converters` package.

The checkout keeps the folders and its imports (`from converters.isolate import ...`,
`-m converters._child`, `-m android_runner.simulator._toolrun`; children run by run_isolated are passed
as functions and found again by their `__module__`, which the wheel's imports already name):
nothing in the source tree has to change when a file is added or edited. Only the copy that goes into
the wheel is rewritten, token by token:
  * `from converters...` / `from android_runner...` import statements get the `edge_kit.` prefix;
  * string literals that are exactly a dotted module path under those packages (optionally with
    `:function`) get it too: these are what child processes import by name (`python -m converters._child`).
Then every rewritten module is parsed again and the build fails if any import or module-path string
still names the bare top-level packages (e.g. `import converters.x`, which cannot be rewritten without
changing which name it binds). Editable installs (`pip install -e .`, used by scripts/setup.sh) are
left alone: there the checkout's own layout is what runs.

pyproject.toml points setuptools at `BuildPy` ([tool.setuptools.cmdclass]).
"""
from __future__ import annotations

import ast
import io
import os
import re
import shutil
import tokenize
from pathlib import Path

PREFIX = "edge_kit"
MOVED = ("converters", "android_runner")
_MODULE_STRING = re.compile(r"(?P<q>[rRbBuU]{0,2}['\"])(?P<mod>(?:%s)(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?)(?P=q)$"
                            % "|".join(MOVED))


def _names_moved(dotted: str) -> bool:
    return dotted.split(".")[0] in MOVED


def rewrite_source(source: str) -> str:
    """`source` with every reference to a moved package pointed at its new home under edge_kit."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NAME and tok.string in MOVED and i > 0:
            prev = tokens[i - 1]
            # `from converters...`: the module of a from-import (relative imports start with a dot token)
            if prev.type == tokenize.NAME and prev.string == "from":
                edits.append((tok.start, tok.end, f"{PREFIX}.{tok.string}"))
        elif tok.type == tokenize.STRING:
            m = _MODULE_STRING.match(tok.string)
            if m:
                new = f"{m.group('q')}{PREFIX}.{m.group('mod')}{m.group('q')[-1]}"
                edits.append((tok.start, tok.end, new))
    lines = source.splitlines(keepends=True)
    for (srow, scol), (erow, ecol), text in reversed(edits):
        assert srow == erow, "a rewritten token never spans lines"
        line = lines[srow - 1]
        lines[srow - 1] = line[:scol] + text + line[ecol:]
    return "".join(lines)


def leftover_references(source: str, filename: str = "<wheel>") -> list[str]:
    """Imports or module-path strings that still name a bare moved package (the build refuses them)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if _names_moved(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _names_moved(node.module):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                _MODULE_STRING.match(repr(node.value)):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def relocate(build_lib: Path) -> list[Path]:
    """Move build_lib/<moved> under build_lib/edge_kit/ and rewrite every module in build_lib."""
    for name in MOVED:
        src, dest = build_lib / name, build_lib / PREFIX / name
        if src.is_dir():
            if dest.exists():
                shutil.rmtree(dest)
            shutil.move(str(src), str(dest))
    problems = []
    modules = sorted(build_lib.rglob("*.py"))
    for path in modules:
        text = path.read_text(encoding="utf-8")
        new = rewrite_source(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
        problems += [f"{path.relative_to(build_lib)} {p}" for p in leftover_references(new, str(path))]
    if problems:
        raise SystemExit("wheel build: references to top-level converters/android_runner that cannot be moved "
                         "under edge_kit (write them as `from converters.x import y`):\n  " + "\n  ".join(problems))
    return modules


try:  # only the build needs setuptools; tests import the functions above without it
    from setuptools.command.build_py import build_py as _build_py
except ImportError:  # pragma: no cover
    _build_py = object


class BuildPy(_build_py):
    """setuptools' build_py, then the relocation above (not for editable installs)."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            relocate(Path(self.build_lib))

    def get_outputs(self, include_bytecode=1):
        outs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outs
        moved = []
        for out in outs:
            rel = Path(os.path.relpath(out, self.build_lib))
            moved.append(os.path.join(self.build_lib, PREFIX, *rel.parts) if rel.parts[0] in MOVED else out)
        return moved


try:  # setuptools >= 70.1 ships bdist_wheel; older setuptools take it from the `wheel` package
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # pragma: no cover
    import warnings

    with warnings.catch_warnings():  # wheel's own copy warns that it moved into setuptools
        warnings.simplefilter("ignore", FutureWarning)
        try:
            from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
        except ImportError:
            _bdist_wheel = object


class BdistWheel(_bdist_wheel):
    """bdist_wheel whose top_level.txt says what the wheel really installs (egg_info lists the checkout's
    three top-level folders; importlib.metadata.packages_distributions() reads this file)."""

    def egg2dist(self, egginfo_path, distinfo_path):
        super().egg2dist(egginfo_path, distinfo_path)
        top = Path(distinfo_path) / "top_level.txt"
        if top.exists():
            names = [n for n in top.read_text().split() if n not in MOVED]
            top.write_text("".join(f"{n}\n" for n in names))
