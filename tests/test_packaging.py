"""Installing edgekit outside the checkout: the wheel's package relocation and the tflite-support location.

The whole path (build a wheel, install it in a fresh venv, convert and bench) is tests/test_wheel_install.py.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge_kit.errors import EdgekitError

ROOT = Path(__file__).resolve().parent.parent


def _wheel_names():
    spec = importlib.util.spec_from_file_location("wheel_names", ROOT / "scripts" / "wheel_names.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SAMPLE = '''"""converters.isolate.run_isolated starts this; "converters.x" in prose stays."""
from converters import onnx_export, tflite
from converters.isolate import run_isolated
from android_runner.simulator import DeviceSimulator
from . import sibling
from .converters import local
import converters_extra
from converters_extra.x import y

TARGET = "converters.paddle_lite:child_opt"
CMD = [sys.executable, "-m", "converters._child", 'android_runner.simulator._toolrun']
PROSE = "converters.isolate runs children"
OTHER = "converters_extra.mod:f"
NAME = "converters"
'''


def test_rewrite_points_imports_and_module_strings_at_edge_kit():
    out = _wheel_names().rewrite_source(SAMPLE)
    assert "from edge_kit.converters import onnx_export, tflite" in out
    assert "from edge_kit.converters.isolate import run_isolated" in out
    assert "from edge_kit.android_runner.simulator import DeviceSimulator" in out
    assert 'TARGET = "edge_kit.converters.paddle_lite:child_opt"' in out
    assert '"-m", "edge_kit.converters._child", \'edge_kit.android_runner.simulator._toolrun\']' in out
    # left alone: relative imports, other packages that merely start with the same letters, prose, docstrings
    for kept in ("from . import sibling", "from .converters import local", "import converters_extra",
                 "from converters_extra.x import y", '"converters.isolate runs children"',
                 '"converters_extra.mod:f"', 'NAME = "converters"', '"""converters.isolate.run_isolated starts'):
        assert kept in out
    assert _wheel_names().leftover_references(out) == []
    # an in-tree rebuild finds already-rewritten files in build/lib: rewriting again changes nothing
    assert _wheel_names().rewrite_source(out) == out


def test_build_refuses_what_it_cannot_rewrite():
    names = _wheel_names()
    # `import converters.x` binds the name `converters`; rewriting it would change what the code refers to
    left = names.leftover_references(names.rewrite_source("import converters.isolate\nimport android_runner\n"))
    assert left == ["line 1: import converters.isolate", "line 2: import android_runner"]


def test_relocated_tree_imports_and_runs_children_without_the_checkout(tmp_path):
    """The repo's real packages, relocated as the wheel build does: only edge_kit is top-level, and a child
    process started through the rewritten run_isolated imports edge_kit.converters by name."""
    names = _wheel_names()
    lib = tmp_path / "lib"
    for pkg in ("edge_kit", "converters", "android_runner"):
        shutil.copytree(ROOT / pkg, lib / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    names.relocate(lib)
    assert sorted(p.name for p in lib.iterdir()) == ["edge_kit"]
    assert (lib / "edge_kit" / "converters" / "isolate.py").exists()
    assert (lib / "edge_kit" / "android_runner" / "simulator" / "_toolrun.py").exists()
    probe = (
        "import edge_kit, edge_kit.conversion.cache, edge_kit.conversion.stages, edge_kit.commands.bench, edge_kit.android_runner.android_device\n"
        "from edge_kit.converters import tflite_metadata\n"
        "from edge_kit.converters.isolate import run_isolated\n"
        "print(edge_kit.__file__)\n"
        "print(run_isolated(tflite_metadata.available, {}, model='m', stage='s', tool='t'))\n"
        "from edge_kit.conversion.fingerprint import conversion_fingerprint\n"
        "print(conversion_fingerprint())\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**env, "PYTHONPATH": str(lib)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, child, code_hash = proc.stdout.strip().splitlines()[-3:]
    assert first.startswith(str(lib))
    assert child in ("True", "False")
    # the hash covers the relocated converters (a changed converter must not be answered from the cache)
    (lib / "edge_kit" / "converters" / "tflite.py").write_text("# changed\n")
    again = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**env, "PYTHONPATH": str(lib)},
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip().splitlines()[-1] != code_hash


def test_python_dash_m_edge_kit_is_the_cli():
    proc = subprocess.run([sys.executable, "-m", "edge_kit", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("edgekit 0.")


# ---- tflite-support: a documented, configurable location, not a path in the source tree ----

def test_tflite_support_location_env_var_and_defaults(tmp_path, monkeypatch):
    from converters import tflite_metadata as tm

    monkeypatch.delenv(tm.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert tm.default_locations() == [Path(sys.prefix) / "share" / "edgekit" / "tflite_support",
                                      tmp_path / "data" / "edgekit" / "tflite_support"]

    configured = tmp_path / "elsewhere"
    monkeypatch.setenv(tm.ENV_VAR, str(configured))
    with pytest.raises(EdgekitError) as err:
        tm.location()
    msg = str(err.value)
    assert f"{tm.ENV_VAR}={configured}" in msg and f"--target {configured} tflite-support==0.4.4" in msg
    assert "\n" not in msg
    assert not tm.available()
    (configured / "tensorflow_lite_support" / "metadata").mkdir(parents=True)
    assert tm.location() == configured and tm.available()

    # the user data dir is the fallback when the environment's prefix has none
    monkeypatch.delenv(tm.ENV_VAR)
    user = tmp_path / "data" / "edgekit" / "tflite_support"
    if not (tm.default_locations()[0] / "tensorflow_lite_support" / "metadata").is_dir():
        (user / "tensorflow_lite_support" / "metadata").mkdir(parents=True)
        assert tm.location() == user


def test_missing_libusb_names_the_debian_package():
    from converters import tflite_metadata as tm

    tm.check_libusb()  # installed on this machine (scripts/setup.sh installs it on Debian)
    with pytest.raises(EdgekitError) as err:
        tm.check_libusb("libedgekit-no-such-usb-1.0.so.0")  # the real loader, a library that is not there
    assert "apt-get install libusb-1.0-0" in str(err.value) and "libusb-1.0.so.0" in str(err.value)


@pytest.mark.slow
def test_bundle_finds_tflite_support_through_the_env_var(tmp_path):
    """The metadata writers wherever EDGEKIT_TFLITE_SUPPORT_PATH says (here a symlink to the installed copy)."""
    from converters import tflite_metadata as tm

    # scripts/setup.sh installs it under the venv's prefix; venvs built before kept it in .venv/extras
    installed = next((p for p in tm.default_locations() + [Path(sys.prefix) / "extras" / "tflite_support"]
                      if (p / "tensorflow_lite_support" / "metadata").is_dir()), None)
    assert installed, "tflite-support is not installed (scripts/setup.sh installs it)"
    custom = tmp_path / "my tflite support"
    custom.symlink_to(installed, target_is_directory=True)
    from conftest import run_cli

    proc = run_cli("bundle", "MobileNetV3_small_ssld", "--app", "tflite-task", "-o", str(tmp_path / "out"),
                   env={tm.ENV_VAR: str(custom)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = json.loads((tmp_path / "out" / "MobileNetV3_small_ssld-tflite-task-classifier" / "edgekit_bundle.json").read_text())
    assert info["outputs_unchanged_by_metadata"] and info["associated_files"]
    missing = run_cli("bundle", "MobileNetV3_small_ssld", "--app", "tflite-task", "-o", str(tmp_path / "out2"),
                      env={tm.ENV_VAR: str(tmp_path / "nowhere")})
    assert missing.returncode != 0 and f"{tm.ENV_VAR}={tmp_path / 'nowhere'}" in missing.stderr
    assert not (tmp_path / "out2").exists()
