"""ELF checks on the user-supplied tools, and where the tools are found."""
import json
import struct

import pytest

from android_runner.testing import write_fake_android_elf
from android_runner.tools import ToolError, check_android_elf, elf_identity, locate_tools


def test_fake_elf_header_is_well_formed(tmp_path):
    p = write_fake_android_elf(tmp_path / "benchmark_bin")
    raw = p.read_bytes()
    assert len(raw) == 64 and raw[:4] == b"\x7fELF" and raw[4] == 2
    assert struct.unpack("<H", raw[18:20])[0] == 183
    assert struct.unpack("<H", raw[52:54])[0] == 64      # e_ehsize
    assert elf_identity(p) == (2, 183)
    p32 = write_fake_android_elf(tmp_path / "arm32", machine=40)
    assert elf_identity(p32) == (1, 40) and len(p32.read_bytes()) == 52


def test_accepts_aarch64_for_arm64_phone(tmp_path):
    check_android_elf(write_fake_android_elf(tmp_path / "benchmark_model"), "arm64-v8a")


def test_accepts_arm32_for_armv7_phone(tmp_path):
    check_android_elf(write_fake_android_elf(tmp_path / "b", machine=40), "armeabi-v7a")


def test_rejects_x86_64_elf(tmp_path):
    p = write_fake_android_elf(tmp_path / "benchmark_bin", machine=62)
    with pytest.raises(ToolError, match=r"x86-64 ELF64 binary but the phone's ABI arm64-v8a needs aarch64 ELF64"):
        check_android_elf(p, "arm64-v8a")


def test_rejects_arm32_on_arm64_phone(tmp_path):
    # An armv7 build would run on most arm64 phones, but its numbers are not the arm64 kernels'.
    p = write_fake_android_elf(tmp_path / "benchmark_bin", machine=40)
    with pytest.raises(ToolError, match="arm ELF32"):
        check_android_elf(p, "arm64-v8a")


def test_rejects_host_python_interpreter(tmp_path):
    import sys
    with pytest.raises(ToolError):
        check_android_elf(sys.executable, "arm64-v8a")   # a real host ELF (x86-64 here)


def test_rejects_text_file_and_shell_script(tmp_path):
    for content in (b"#!/system/bin/sh\necho hi\n", b"", b"\x7fEL"):
        p = tmp_path / "benchmark_bin"
        p.write_bytes(content)
        with pytest.raises(ToolError, match="not an ELF binary"):
            check_android_elf(p, "arm64-v8a")


def test_unknown_abi(tmp_path):
    with pytest.raises(ToolError, match="unknown Android ABI"):
        check_android_elf(write_fake_android_elf(tmp_path / "b"), "mips")


def test_locate_order_tool_dir_env_config(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in "abc")
    for d in (a, b, c):
        d.mkdir()
    write_fake_android_elf(a / "benchmark_bin")
    write_fake_android_elf(b / "benchmark_bin")
    write_fake_android_elf(b / "benchmark_model")
    write_fake_android_elf(c / "benchmark_model")
    cfg = tmp_path / "tools.json"
    cfg.write_text(json.dumps({"benchmark_model": str(c / "benchmark_model")}))
    monkeypatch.setenv("EDGEKIT_TOOL_DIR", str(b))
    found = locate_tools(a, config=cfg)
    assert found["benchmark_bin"] == a / "benchmark_bin"          # --tool-dir wins
    assert found["benchmark_model"] == c / "benchmark_model"      # an explicit file in the config beats a dir
    monkeypatch.delenv("EDGEKIT_TOOL_DIR")
    assert locate_tools(None, config=tmp_path / "absent.json") == {}


def test_missing_tool_dir_is_an_error_not_silence(tmp_path):
    with pytest.raises(ToolError, match="not a directory"):
        locate_tools(tmp_path / "typo", config=tmp_path / "none.json")
