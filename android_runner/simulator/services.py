"""The services a client can OPEN: `shell:CMD` (v1: raw output, then CLSE) and `sync:` (file transfer).

`device` is the server's Device: .fs (DeviceFS), .props, .execute(host_path, argv, io, cpu_mask) -> rc.
"""
from __future__ import annotations

import os
import stat as st
import struct

from .builtins import BUILTINS
from .filesystem import FsError, normalize
from .shell import ShellSyntaxError, expand, parse

SH = "/system/bin/sh"
SYNC_DATA_MAX = 64 * 1024     # adb's SYNC_DATA_MAX


class IO:
    """stdout/stderr sinks for one command; a sink is a callable(bytes) or None (/dev/null)."""

    def __init__(self, out, err):
        self.sinks = {1: out, 2: err}

    def out_bytes(self, b: bytes, fd: int = 1) -> None:
        sink = self.sinks.get(fd)
        if sink is not None and b:
            sink(b)

    def out(self, text: str) -> None:
        self.out_bytes(text.encode())

    def err(self, text: str) -> None:
        self.out_bytes(text.encode(), 2)


class Shell:
    def __init__(self, device, write):
        self.device, self.write = device, write
        self.cwd, self.env, self.rc = "/", {"PATH": "/system/bin", "HOME": "/"}, 0

    def host(self, path: str):
        return self.device.fs.host(path, self.cwd)

    def run(self, line: str) -> int:
        self.device.fs.refresh()
        try:
            cmds = parse(line)
        except ShellSyntaxError as e:
            self.write(f"{SH}: {e}\n".encode())
            return 2
        for cmd in cmds:
            if (cmd.connector == "&&" and self.rc != 0) or (cmd.connector == "||" and self.rc == 0):
                continue
            words = [expand(w, self.env, self.rc) for w in cmd.words]
            if words and words[0] == "exit":
                return int(words[1]) if len(words) > 1 and words[1].isdigit() else self.rc
            self.rc = self._simple(words, cmd.redirects)
        return self.rc

    def _simple(self, words, redirects) -> int:
        io = IO(self.write, self.write)
        opened = []
        try:
            for fd, op, target in redirects:
                target = expand(target, self.env, self.rc)
                if op == ">&":
                    io.sinks[fd] = io.sinks.get(int(target)) if target.isdigit() else None
                elif op in (">", ">>"):
                    io.sinks[fd] = self._file_sink(target, op == ">>", opened)
                # `<` (stdin) is accepted and ignored: no builtin reads stdin
        except FsError as e:
            self.write(f"{SH}: can't create {target}: {e}\n".encode())
            return 1
        try:
            env = dict(self.env)
            while words and "=" in words[0] and words[0].split("=")[0].isidentifier():
                k, v = words.pop(0).split("=", 1)
                (env if words else self.env)[k] = v    # `A=1 cmd` is for cmd only; bare `A=1` sets it
            return self._command(words, io, env, None) if words else 0
        finally:
            for f in opened:
                f.close()

    def _file_sink(self, target: str, append: bool, opened):
        if normalize(target, self.cwd) == "/dev/null":
            return None
        host = self.device.fs.check_writable(target, self.cwd)
        if not host.parent.is_dir():
            raise FsError("No such file or directory")
        f = open(host, "ab" if append else "wb")
        opened.append(f)
        return f.write

    def _command(self, words, io, env, cpu_mask) -> int:
        name, args = words[0], words[1:]
        if name == "taskset":
            return self._taskset(args, io, env)
        if name == "export":
            for a in args:
                k, _, v = a.partition("=")
                self.env[k] = v
            return 0
        if name in ("sh", SH) and args[:1] == ["-c"] and len(args) > 1:
            sub = Shell(self.device, lambda b: io.out_bytes(b))
            sub.cwd, sub.env = self.cwd, dict(env)
            return sub.run(args[1])
        if "/" not in name and name in BUILTINS:
            return BUILTINS[name](self, args, io)
        if "/" not in name:
            io.err(f"{SH}: {name}: not found\n")
            return 127
        host = self.host(name)
        if not host.exists():
            io.err(f"{SH}: {name}: not found\n")
            return 127
        if host.is_dir() or not os.access(host, os.X_OK):
            io.err(f"{SH}: {name}: can't execute: Permission denied\n")
            return 126
        return self.device.execute(host, normalize(name, self.cwd), args, io, cpu_mask, self.cwd)

    def _taskset(self, args, io, env) -> int:
        if len(args) < 2:
            io.err("usage: taskset [-ap] [mask] [PID | cmd [args...]]\n")
            return 1
        try:
            mask = int(args[0], 16)
        except ValueError:
            io.err(f"taskset: bad mask '{args[0]}'\n")
            return 1
        if mask == 0 or mask >> 8:
            io.err("taskset: sched_setaffinity: Invalid argument\n")
            return 1
        return self._command(args[1:], io, env, f"{mask:x}")


def shell_service(device, command: str):
    def handler(stream):
        sh = Shell(device, stream.write)
        sh.run(command)
    return handler


# shell protocol v2 packet ids (adb's shell_protocol.h): each packet is id(1) length(4, LE) data
V2_STDIN, V2_STDOUT, V2_STDERR, V2_EXIT, V2_CLOSE_STDIN = 0, 1, 2, 3, 4


def shell_v2_service(device, command: str):
    """`shell,v2:` framing: output as STDOUT packets, then one EXIT packet carrying the exit status byte.
    (The simulated shell has one output sink, so stderr travels in STDOUT packets too.)"""
    def handler(stream):
        frame = lambda kind, data: stream.write(bytes([kind]) + struct.pack("<I", len(data)) + data)
        sh = Shell(device, lambda b: frame(V2_STDOUT, b))
        rc = sh.run(command)
        frame(V2_EXIT, bytes([rc & 0xFF]))
    return handler


def _sync_reply(stream, tag: bytes, *ints: int, data: bytes = b"") -> None:
    stream.write(tag + struct.pack(f"<{len(ints)}I", *ints) + data)


def sync_service(device):
    """adb's file sync protocol: requests are `ID(4) LEN(4) PAYLOAD`, answered per adb's file_sync_service."""

    def handler(stream):
        buf = bytearray()

        def need(n: int) -> bytes | None:
            while len(buf) < n:
                chunk = stream.read()
                if chunk is None:
                    return None
                buf.extend(chunk)
            out = bytes(buf[:n]); del buf[:n]
            return out

        fs = device.fs
        while True:
            head = need(8)
            if head is None:
                return
            tag, length = head[:4], struct.unpack("<I", head[4:])[0]
            if tag == b"QUIT":
                return
            if length > 1024 and tag != b"SEND":
                _sync_reply(stream, b"FAIL", 22, data=b"path too long"); return
            payload = need(length)
            if payload is None:
                return
            path = payload.decode("utf-8", "replace")
            fs.refresh()
            if tag in (b"STAT", b"LIST", b"RECV"):
                try:
                    host = fs.host(path)
                except FsError:
                    host = None
            if tag == b"STAT":
                if host is not None and host.exists():
                    s = host.stat()
                    _sync_reply(stream, b"STAT", s.st_mode, s.st_size, int(s.st_mtime))
                else:
                    _sync_reply(stream, b"STAT", 0, 0, 0)      # adb v1 STAT: all zero = does not exist
            elif tag == b"LIST":
                if host is not None and host.is_dir():
                    for name in sorted(os.listdir(host)):
                        s = (host / name).stat()
                        n = name.encode()
                        _sync_reply(stream, b"DENT", s.st_mode, s.st_size, int(s.st_mtime), len(n), data=n)
                _sync_reply(stream, b"DONE", 0, 0, 0, 0)
            elif tag == b"RECV":
                if host is None or not host.is_file():
                    msg = b"No such file or directory"
                    _sync_reply(stream, b"FAIL", len(msg), data=msg)
                    continue
                with open(host, "rb") as f:
                    for chunk in iter(lambda: f.read(SYNC_DATA_MAX), b""):
                        _sync_reply(stream, b"DATA", len(chunk), data=chunk)
                _sync_reply(stream, b"DONE", 0)
            elif tag == b"SEND":
                if not _receive_file(stream, fs, path, need):
                    return
            else:
                msg = f"unknown sync command {tag!r}".encode()
                _sync_reply(stream, b"FAIL", len(msg), data=msg); return
    return handler


def _receive_file(stream, fs, spec: str, need) -> bool:
    """SEND `path,mode` then DATA chunks then DONE(mtime) -> OKAY or FAIL. Returns False if the stream died."""
    path, _, mode_txt = spec.rpartition(",")
    mode = int(mode_txt) if mode_txt.isdigit() else 0o644
    chunks, error = [], None
    if st.S_ISLNK(mode):
        error = "symlinks cannot be pushed to the simulated device"
    while True:
        head = need(8)
        if head is None:
            return False
        tag, n = head[:4], struct.unpack("<I", head[4:])[0]
        if tag == b"DATA":
            if n > SYNC_DATA_MAX:
                error = error or "data chunk too large"
            data = need(n)
            if data is None:
                return False
            chunks.append(data)
        elif tag == b"DONE":
            mtime = n
            break
        else:
            error = error or f"unexpected {tag!r} during SEND"
            break
    if error is None:
        try:
            fs.write_file(path, b"".join(chunks), mode & 0o777)
            host = fs.host(path)
            if mtime:
                os.utime(host, (mtime, mtime))
        except FsError as e:
            error = f"couldn't create file: {e}"
    if error:
        msg = error.encode()
        _sync_reply(stream, b"FAIL", len(msg), data=msg)
    else:
        _sync_reply(stream, b"OKAY", 0)
    return True
