"""Issue 12, cache integrity: outputs are copies, cache entries are checked on reuse, a full disk keeps
nothing, stale scratch dirs go away, manifests are readable by others."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

import edge_kit.conversion.cache as cache
from edge_kit.convert import convert
from edge_kit.errors import EdgekitError
from edge_kit.manifest import atomic_write_text, sha256_file


def _onnx(arts):
    return next(a for a in arts if a.format == "onnx")


def test_outputs_are_copies_not_links_into_the_cache(tiny_paddle_model, tmp_path):
    a = _onnx(convert(paddle_model=str(tiny_paddle_model), to=("onnx",), out_dir=str(tmp_path / "a"),
                      log=lambda m: None))
    good = a.manifest["sha256"]
    assert os.stat(a.path).st_nlink == 1
    with open(a.path, "r+b") as f:  # the user edits the output in place
        f.write(b"garbage!")
    logs: list[str] = []
    b = _onnx(convert(paddle_model=str(tiny_paddle_model), to=("onnx",), out_dir=str(tmp_path / "b"),
                      log=logs.append))
    assert sha256_file(b.path) == good and b.ok
    assert not any("damaged" in m for m in logs)  # the cache never saw the edit


def test_corrupt_cache_entry_is_noticed_and_rebuilt(tiny_paddle_model, tmp_path):
    arts = convert(paddle_model=str(tiny_paddle_model), to=("onnx",), log=lambda m: None)
    cached = _onnx(arts).path
    good = _onnx(arts).manifest["sha256"]
    with open(cached, "r+b") as f:  # truncate the cache entry, as a crash or a stray edit would
        f.truncate(100)
    logs: list[str] = []
    again = _onnx(convert(paddle_model=str(tiny_paddle_model), to=("onnx",), out_dir=str(tmp_path / "o"),
                          log=logs.append))
    notices = [m for m in logs if "damaged" in m]
    assert len(notices) == 1 and "rebuilding" in notices[0], logs
    assert sha256_file(again.path) == again.manifest["sha256"] == good
    assert again.manifest["parity"]["status"] == "passed"


def test_full_disk_half_way_keeps_no_file(tiny_paddle_model, tmp_path, monkeypatch):
    convert(paddle_model=str(tiny_paddle_model), to=("onnx",), log=lambda m: None)  # warm the cache
    real = cache.shutil.copyfile
    calls = []

    def second_copy_fails(src, dst, **kw):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, **kw)

    monkeypatch.setattr(cache.shutil, "copyfile", second_copy_fails)
    with pytest.raises(EdgekitError, match="no space left"):
        convert(paddle_model=str(tiny_paddle_model), to=("onnx",), out_dir=str(tmp_path / "out"), log=lambda m: None)
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_stale_scratch_dirs_of_dead_builders_are_removed(tmp_path):
    dead = tmp_path / ".abc.pid999999999.x1"
    live = tmp_path / f".abc.pid{os.getppid()}.x2"
    old_live = tmp_path / f".abd.pid{os.getppid()}.x3"
    for d in (dead, live, old_live):
        d.mkdir()
    os.utime(old_live, (1, 1))
    cache.clean_stale_scratch(tmp_path)
    assert not dead.exists() and live.exists() and not old_live.exists()


def test_manifests_and_outputs_are_0644(tiny_paddle_model, tmp_path):
    old = os.umask(0o022)
    try:
        a = _onnx(convert(paddle_model=str(tiny_paddle_model), to=("onnx",), out_dir=str(tmp_path / "a"),
                          log=lambda m: None))
        atomic_write_text(tmp_path / "report.md", "x")
    finally:
        os.umask(old)
    for f in (a.path, Path(str(a.path) + ".manifest.json"), tmp_path / "report.md"):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o644, f
