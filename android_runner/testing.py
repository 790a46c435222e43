"""Test helpers that build real files, not mocks."""
from __future__ import annotations

import os
import struct
from pathlib import Path

ET_DYN = 3   # Android executables are PIE, i.e. ET_DYN


def write_fake_android_elf(path, machine: int = 183, elf_class: int | None = None) -> Path:
    """A minimal valid ELF header (ELF64 for aarch64/x86-64, ELF32 for arm/x86) standing in for a
    user-supplied Android binary. It passes tools.check_android_elf but cannot run; the simulator
    executes its own stand-in when a file named benchmark_bin / benchmark_model is run."""
    path = Path(path)
    if elf_class is None:
        elf_class = 2 if machine in (183, 62) else 1
    ident = b"\x7fELF" + bytes([elf_class, 1, 1, 0]) + b"\0" * 8   # class, little-endian, version 1, SysV ABI
    if elf_class == 2:
        # e_type e_machine e_version e_entry e_phoff e_shoff e_flags e_ehsize e_phentsize e_phnum e_shentsize e_shnum e_shstrndx
        rest = struct.pack("<HHIQQQIHHHHHH", ET_DYN, machine, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    else:
        rest = struct.pack("<HHIIIIIHHHHHH", ET_DYN, machine, 1, 0, 52, 0, 0x05000000 if machine == 40 else 0,
                           52, 32, 0, 40, 0, 0)
    path.write_bytes(ident + rest)
    os.chmod(path, 0o755)
    return path
