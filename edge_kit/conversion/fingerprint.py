"""The code fingerprint in every cache key: a fix in a converter, a compat pass, a parity rule, the image
generator or the manifest writer must not be answered from a cache filled by the old code.

One rule says which code that is: the source of every module a conversion can execute, found by a static
walk of the import statements (at any depth, so the lazy imports inside functions count too) from the
entry points in ROOTS, through the `edge_kit` and `converters` packages, with the `__init__` of every
package on the way (it runs on import); plus the whole `converters` package, because its child entry
point (`_child.py`) and the ARM runner are started as scripts, not imported. Third-party packages are
covered by the tool versions in each key, not here.

A zoo model's network code is reached through a string in the registry ("module:function"), which an
import walk cannot see; its source key (edge_kit.conversion.sources) walks from the builder's module
with the same function.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from edge_kit import formats

# What runs a conversion: convert() and the app bundles' adapted pipelines (edge_kit.bundle subclasses
# the stages and feeds them its own inputs), and the host runtimes parity runs the artifacts on, which
# edge_kit.formats names by string ("module:Class") like the zoo's networks.
ROOTS = ("edge_kit.conversion.run", "edge_kit.bundle",
         *sorted({r.host.split(":")[0] for r in formats.RUNTIMES if r.host}))


def _packages() -> dict[str, Path]:
    """Package name -> directory, for the packages the walk follows. Found through the imported packages,
    not the source tree: a wheel installs converters/ as edge_kit.converters."""
    import edge_kit
    from converters import isolate

    return {"edge_kit": Path(edge_kit.__file__).resolve().parent,
            isolate.__package__: Path(isolate.__file__).resolve().parent}


def _module_path(module: str, packages: dict[str, Path]) -> Path | None:
    for name in sorted(packages, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            rest = module[len(name) + 1:].split(".") if module != name else []
            base = packages[name].joinpath(*rest)
            for candidate in (base / "__init__.py", base.with_suffix(".py") if rest else None):
                if candidate is not None and candidate.is_file():
                    return candidate
            return None
    return None


def _imported(module: str, path: Path, source: bytes) -> list[str]:
    """Every module an import statement in `source` may load (`from a import b` may mean a.b)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, one level up per extra dot
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


class _ImportMemo:
    """_imported() by the sha256 of what it reads (module name, file name, source), kept in the cache dir:
    parsing some two hundred modules was half of a warm `edgekit convert` (0.5 of 1.1 s, profiled). Keyed
    by content, so an edited module is parsed again; an unreadable or unwritable memo just costs the parse."""

    def __init__(self):
        from edge_kit.conversion.cache import cache_root

        self.path = cache_root().parent / "code_imports.json"
        try:
            self.known = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.added = 0

    def imported(self, module: str, path: Path, source: bytes) -> list[str]:
        key = hashlib.sha256(b"\0".join((module.encode(), path.name.encode(), source))).hexdigest()
        names = self.known.get(key)
        if not isinstance(names, list):
            names = self.known[key] = _imported(module, path, source)
            self.added += 1
        return names

    def save(self) -> None:
        if not self.added:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.known))
            os.replace(tmp, self.path)  # whole or not at all: another process may read it now
        except OSError:
            pass


def module_files(roots: tuple[str, ...], packages: dict[str, Path] | None = None) -> dict[str, Path]:
    """module name -> source file, for `roots` and everything they import within `packages`."""
    packages = packages or _packages()
    memo = _ImportMemo()
    found: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in found:
            continue
        path = _module_path(module, packages)
        if path is None:  # outside the walked packages, or a name imported from a module
            continue
        found[module] = path
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += memo.imported(module, path, path.read_bytes())
    memo.save()
    return found


def covered_files(roots: tuple[str, ...], whole: tuple[str, ...] = (),
                  packages: dict[str, Path] | None = None) -> dict[str, Path]:
    """module name -> source file: `roots`' import closure and every module of the `whole` packages."""
    packages = packages or _packages()
    files = module_files(roots, packages)
    for name in whole:
        for f in sorted(packages[name].rglob("*.py")):
            rel = f.relative_to(packages[name]).with_suffix("")
            files.setdefault(".".join((name, *rel.parts)).removesuffix(".__init__"), f)
    return files


def code_fingerprint(roots: tuple[str, ...], whole: tuple[str, ...] = (),
                     packages: dict[str, Path] | None = None) -> str:
    """sha256 (first 16 hex digits) of the sources covered_files() names, each with its module name."""
    files = covered_files(roots, whole, packages)
    h = hashlib.sha256()
    for module in sorted(files):
        h.update(module.encode() + b"\0" + files[module].read_bytes() + b"\0")
    return h.hexdigest()[:16]


def conversion_code_files(packages: dict[str, Path] | None = None) -> dict[str, Path]:
    """What the conversion fingerprint covers: ROOTS' import closure plus the converters package."""
    from converters import isolate

    return covered_files(ROOTS, (isolate.__package__,), packages)


@lru_cache(maxsize=1)
def conversion_fingerprint() -> str:
    """The fingerprint of the conversion code (conversion_code_files), computed once per process."""
    from converters import isolate

    return code_fingerprint(ROOTS, (isolate.__package__,))
