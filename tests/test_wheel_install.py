"""edgekit as a user installs it: a wheel built from this repo, installed into a fresh Python 3.10 venv
outside the checkout with requirements.lock as constraints, runs `edgekit models`, a conversion and a
host bench from a directory that has nothing of the checkout in it.

Slow: it installs the whole stack from the registry into a temporary venv (no system site-packages),
with uv when the environment has it (pinned in requirements.lock; same constraints, parallel downloads,
its cache reused between runs), else pip. Each step's time is printed (pytest -s) so CI's cost stays visible.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _python310() -> str:
    # The interpreter this venv was made from (scripts/setup.sh found a real CPython 3.10); EDGEKIT_PYTHON wins.
    for cand in (os.environ.get("EDGEKIT_PYTHON"), str(Path(sys.base_prefix) / "bin" / "python3.10")):
        if cand and Path(cand).is_file():
            return cand
    pytest.fail("CPython 3.10 not found (set EDGEKIT_PYTHON)")


def _run(cmd, *, cwd, env, timeout=900, what=""):
    t0 = time.monotonic()
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - t0
    print(f"[wheel test] {what or cmd[0]}: {took:.1f} s (exit {proc.returncode})")
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def _uv():
    """uv (pinned in requirements.lock) if this environment has it, else None: pip is used."""
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return None


def _norm_pin(line: str) -> tuple[str, str]:
    name, ver = line.strip().split("==")
    return name.strip().lower().replace("_", "-").replace(".", "-"), ver.strip()


_LIST_INSTALLED = ("import json, importlib.metadata as m\n"
                   "print(json.dumps({d.metadata['Name'].lower().replace('_', '-').replace('.', '-'): d.version "
                   "for d in m.distributions()}))")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, env): edgekit installed from a wheel into a fresh venv; env runs it as a user would."""
    tmp = tmp_path_factory.mktemp("wheel")
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("edge_kit", "converters", "android_runner"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=ignore)
    for f in ("pyproject.toml", "MANIFEST.in", "requirements.lock", "README.md", "scripts/wheel_names.py"):
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    # No build isolation: the build uses this environment's setuptools and wheel, so nothing is fetched for it.
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp / "dist", src],
         cwd=tmp, env=base_env, what="build wheel")
    wheel, = (tmp / "dist").glob("edgekit-*.whl")
    venv = tmp / "venv"
    uv = _uv()
    if uv:  # same resolution under the same constraints, downloads in parallel: ~4x faster here than pip
        _run([uv, "venv", "-q", "--python", _python310(), venv], cwd=tmp, env=base_env, what="uv venv")
        target = ["--python", venv / "bin" / "python"]
        install, check = [uv, "pip", "install", "-q", *target], [uv, "pip", "check", *target]
    else:
        _run([_python310(), "-m", "venv", venv], cwd=tmp, env=base_env, what="python -m venv")
        pip = [venv / "bin" / "python", "-m", "pip"]
        install, check = [*pip, "install", "-q"], [*pip, "check"]
    _run([*install, wheel, "-c", ROOT / "requirements.lock"], cwd=tmp, env=base_env, timeout=1800,
         what=f"{'uv pip' if uv else 'pip'} install wheel -c requirements.lock")
    _run(check, cwd=tmp, env=base_env, what="pip check")
    frozen = _run([venv / "bin" / "python", "-m", "edge_kit", "--version"], cwd=tmp, env=base_env, what="--version")
    assert frozen.stdout.startswith("edgekit ")
    # the installed set is the lock's: every package the lock names that got installed has the lock's version
    pins = [ln.split("#")[0] for ln in (ROOT / "requirements.lock").read_text().splitlines()]
    lock = dict(_norm_pin(ln) for ln in pins if "==" in ln)
    got = json.loads(_run([venv / "bin" / "python", "-c", _LIST_INSTALLED], cwd=tmp, env=base_env,
                          what="installed versions").stdout)
    off = {name: (ver, lock[name]) for name, ver in got.items() if name in lock and lock[name] != ver}
    assert not off, f"installed versions differ from requirements.lock: {off}"
    assert {"paddlelite", "paddlepaddle", "tensorflow", "onnx2tf", "ai-edge-litert", "numpy"} <= set(got)
    work = tmp / "work"
    work.mkdir()
    env = {**base_env, "PATH": f"{venv / 'bin'}{os.pathsep}{base_env.get('PATH', '')}",
           "EDGEKIT_CACHE": str(tmp / "cache")}
    return venv, env, work


def test_installed_names_and_entry_points(installed):
    venv, env, work = installed
    probe = ("import importlib.util as u, edge_kit, edge_kit.converters.isolate, edge_kit.android_runner.transport\n"
             "print(edge_kit.__file__)\n"
             "print(u.find_spec('converters'), u.find_spec('android_runner'))\n")
    out = _run([venv / "bin" / "python", "-c", probe], cwd=work, env=env, what="import probe").stdout.splitlines()
    site = next((venv / "lib").glob("python3.10/site-packages"))
    assert out[0].startswith(str(site)), out  # imported from the venv, not the checkout
    assert out[1] == "None None"  # no top-level `converters` / `android_runner` installed
    assert not (site / "converters").exists() and not (site / "android_runner").exists()
    top = next(site.glob("edgekit-*.dist-info")) / "top_level.txt"
    assert top.read_text().split() == ["edge_kit"]

    models = _run(["edgekit", "models"], cwd=work, env=env, what="edgekit models").stdout
    assert "MobileNetV3_small_ssld" in models and "YOLOv3-MobileNetV1" in models
    listed = json.loads(_run([venv / "bin" / "python", "-m", "edge_kit", "models", "--json"], cwd=work, env=env,
                             what="python -m edge_kit models --json").stdout)
    assert len(listed) == 23


def test_installed_converts_and_benches_outside_the_checkout(installed, tiny_paddle_model):
    venv, env, work = installed
    out = work / "out"
    _run(["edgekit", "convert", "--paddle-model", tiny_paddle_model, "--to", "paddlelite,onnx,tflite",
          "--precision", "fp32", "-o", out], cwd=work, env=env, what="edgekit convert (tiny model)")
    manifests = {p.name: json.loads(p.read_text()) for p in out.rglob("*.manifest.json")}
    by_file = {m["format"] + "/" + m.get("target", ""): m for m in manifests.values()}
    assert {"paddlelite/x86", "paddlelite/arm", "onnx/cpu", "tflite/cpu"} <= set(by_file), sorted(by_file)
    for key in ("paddlelite/x86", "onnx/cpu", "tflite/cpu"):
        assert by_file[key]["parity"]["status"] == "passed", (key, by_file[key]["parity"])
    tflite = next(p for p in out.rglob("*.tflite"))
    onnx = next(p for p in out.rglob("*.onnx"))
    results = work / "results"
    _run(["edgekit", "bench", "--artifact", tflite, "--artifact", onnx, "--threads", "1", "--warmup", "3",
          "--repeats", "20", "--results-dir", results, "--quiet"], cwd=work, env=env, what="edgekit bench (host)")
    records = [json.loads(ln) for ln in (results / "results.jsonl").read_text().splitlines() if ln.strip()]
    assert {r["backend"] for r in records} == {"tflite", "onnxruntime"}, records
    for r in records:
        assert r["status"] == "ok" and r["measurement"]["median_ms"] > 0, r
        assert r["device_info"]["git_revision"] is None  # installed: there is no checkout to describe
