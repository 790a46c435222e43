"""scripts/text_direction_set.py: the labelled text-direction set the trained-model int8 accuracy was
measured on. Labels must be right (class 1 is class 0's crop turned 180 degrees, padding untouched) and
the set must be reproducible from its seed."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "text_direction_set.py"


def _make(out: Path, seed: int, count: int = 6) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(out), "--count", str(count), "--seed", str(seed)],
                          capture_output=True, text=True, timeout=120)


def _write_set(out: Path, seed: int, count: int = 6, hard: bool = False) -> None:
    """The script's own function, in-process (a child Python costs seconds on a loaded machine)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("text_direction_set", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.write_set(out, count, seed, hard)


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.png"))}


def test_labels_are_the_direction_and_the_set_is_deterministic(tmp_path):
    assert _make(tmp_path / "a", 5).returncode == 0
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["0", "1", "meta.json"]
    assert len(meta["files"]) == 12
    for i in range(6):
        up = np.asarray(Image.open(tmp_path / "a" / "0" / f"line{i:04d}.png"))
        down = np.asarray(Image.open(tmp_path / "a" / "1" / f"line{i:04d}.png"))
        assert up.shape == down.shape == (48, 192, 3)
        w = next(f["crop_width"] for f in meta["files"] if f["file"] == f"0/line{i:04d}.png")
        np.testing.assert_array_equal(down[:, :w], up[::-1, :w][:, ::-1])  # the crop turned 180 degrees
        assert (up[:, w:] == 128).all() and (down[:, w:] == 128).all()    # PaddleOCR's right pad
        assert not np.array_equal(up[:, :w], down[:, :w])                 # a line is not its own rotation
        assert up[:, :w].mean() > 120                                     # dark text on a light background
    _write_set(tmp_path / "b", 5)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    _write_set(tmp_path / "c", 6)
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")


def test_hard_lines_keep_the_labels_and_are_reproducible(tmp_path):
    _write_set(tmp_path / "h1", 4, count=3, hard=True)
    _write_set(tmp_path / "h2", 4, count=3, hard=True)
    assert _digest(tmp_path / "h1") == _digest(tmp_path / "h2")
    meta = json.loads((tmp_path / "h1" / "meta.json").read_text())
    assert meta["difficulty"] == "hard"
    for f in meta["files"][::2]:  # the upright one of each pair
        up = np.asarray(Image.open(tmp_path / "h1" / f["file"]))
        down = np.asarray(Image.open(tmp_path / "h1" / f["file"].replace("0/", "1/")))
        w = f["crop_width"]
        np.testing.assert_array_equal(down[:, :w], up[::-1, :w][:, ::-1])


def test_is_read_as_class_folders_not_coco(tmp_path):
    from edge_kit.evaluate import find_dataset

    _write_set(tmp_path / "s", 0, count=2)
    ds = find_dataset(str(tmp_path / "s"))
    assert ds.kind == "class_folders" and sorted(label for _, label in ds.items) == [0, 0, 1, 1]
    assert all(p.parent.name == str(label) for p, label in ds.items)
    out = _make(tmp_path / "s", 0)
    assert out.returncode != 0 and "not empty" in out.stderr
