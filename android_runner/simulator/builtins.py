"""The device shell's built-in commands (toybox-style messages, exit codes as on Android)."""
from __future__ import annotations

import hashlib
import os
import stat as st
import time

from .filesystem import FsError, normalize

SLEEP_CAP_S = 3.0   # a simulated `sleep` (cool-downs) never blocks a test for long
NO_SUCH = "No such file or directory"


def _per_path(io, cmd: str, paths, action, quoted: bool = False) -> int:
    """Run action(path) for each path; a failure prints toybox's "cmd: path: reason" and sets rc 1
    but does not stop the others, as on the device. toybox quotes the path for some commands."""
    rc = 0
    for a in paths:
        try:
            action(a)
        except FileNotFoundError:
            reason = NO_SUCH
        except FsError as e:
            reason = str(e)
        else:
            continue
        shown = f"'{a}'" if quoted else a
        io.err(f"{cmd}: {shown}: {reason}\n")
        rc = 1
    return rc


def _getprop(sh, args, io):
    props = sh.device.props
    if args:
        io.out(props.get(args[0], args[1] if len(args) > 1 else "") + "\n")
    else:
        io.out("".join(f"[{k}]: [{v}]\n" for k, v in sorted(props.items())))
    return 0


def _cat(sh, args, io):
    def one(a):
        host = sh.host(a)
        if host.is_dir():
            raise FsError("Is a directory")
        io.out_bytes(host.read_bytes())
    return _per_path(io, "cat", args, one)


def _ls(sh, args, io):
    long = any(a.startswith("-") and "l" in a for a in args)
    paths = [a for a in args if not a.startswith("-")] or ["."]
    rc = 0
    for a in paths:
        host = sh.host(a)
        if not os.path.lexists(host):
            io.err(f"ls: {a}: {NO_SUCH}\n"); rc = 1
            continue
        names = sorted(os.listdir(host)) if host.is_dir() else [a]
        for n in names:
            p = host / n if host.is_dir() else host
            if long:
                s = p.stat()
                io.out(f"{st.filemode(s.st_mode)} 1 shell shell {s.st_size} "
                       f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(s.st_mtime))} {n}\n")
            else:
                io.out(n + "\n")
    return rc


def _mkdir(sh, args, io):
    parents = "-p" in args

    def one(a):
        host = sh.device.fs.check_writable(a, sh.cwd)
        if host.exists() and not parents:
            raise FsError("File exists")
        host.mkdir(parents=parents, exist_ok=parents)
    return _per_path(io, "mkdir", [x for x in args if not x.startswith("-")], one, quoted=True)


def _chmod(sh, args, io):
    if len(args) < 2:
        io.err("chmod: Need 2 arguments\n"); return 1
    mode_txt = args[0]
    if not (mode_txt.isdigit() or mode_txt in ("+x", "a+x", "u+x")):
        io.err(f"chmod: bad mode '{mode_txt}'\n"); return 1

    def one(a):
        host = sh.device.fs.check_writable(a, sh.cwd)
        cur = host.stat().st_mode & 0o777
        new = int(mode_txt, 8) if mode_txt.isdigit() else cur | (0o100 if mode_txt == "u+x" else 0o111)
        os.chmod(host, new)
    return _per_path(io, "chmod", args[1:], one)


def _rm(sh, args, io):
    flags = "".join(a[1:] for a in args if a.startswith("-"))
    rc = 0
    for a in (x for x in args if not x.startswith("-")):
        try:
            sh.device.fs.remove(normalize(a, sh.cwd), recursive="r" in flags or "R" in flags)
        except FsError as e:
            if not ("f" in flags and str(e) == NO_SUCH):
                io.err(f"rm: {a}: {e}\n"); rc = 1
    return rc


def _touch(sh, args, io):
    return _per_path(io, "touch", args, lambda a: sh.device.fs.check_writable(a, sh.cwd).touch(), quoted=True)


def _echo(sh, args, io):
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    io.out(" ".join(args) + ("\n" if newline else ""))
    return 0


def _test(sh, args, io):
    if args and args[0] == "[":
        args = args[1:]
    if args and args[-1] == "]":
        args = args[:-1]
    neg = bool(args) and args[0] == "!"
    args = args[1:] if neg else args
    if len(args) == 2 and args[0] in ("-f", "-d", "-e", "-s", "-x"):
        host = sh.host(args[1])
        ok = {"-f": host.is_file(), "-d": host.is_dir(), "-e": host.exists(),
              "-s": host.is_file() and host.stat().st_size > 0,
              "-x": host.exists() and os.access(host, os.X_OK)}[args[0]]
    elif len(args) == 3 and args[1] in ("=", "!="):
        ok = (args[0] == args[2]) == (args[1] == "=")
    elif len(args) == 1:
        ok = args[0] != ""
    else:
        io.err("test: unsupported expression in the simulator\n"); return 2
    return 0 if ok != neg else 1


def _sleep(sh, args, io):
    try:
        time.sleep(min(float(args[0]), SLEEP_CAP_S))
    except (IndexError, ValueError):
        io.err("sleep: bad duration\n"); return 1
    return 0


def _sha256sum(sh, args, io):
    rc = 0
    for a in args:
        host = sh.host(a)
        if not host.is_file():
            io.err(f"sha256sum: {a}: {NO_SUCH}\n"); rc = 1
            continue
        h = hashlib.sha256()
        with open(host, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        io.out(f"{h.hexdigest()}  {a}\n")
    return rc


def _stat(sh, args, io):
    if len(args) < 3 or args[0] != "-c":
        io.err("stat: the simulator supports only: stat -c FORMAT FILE...\n"); return 1
    fmt, rc = args[1], 0
    for a in args[2:]:
        host = sh.host(a)
        if not os.path.lexists(host):
            io.err(f"stat: '{a}': {NO_SUCH}\n"); rc = 1
            continue
        s = host.stat()
        out = (fmt.replace("%s", str(s.st_size)).replace("%Y", str(int(s.st_mtime)))
               .replace("%a", format(s.st_mode & 0o777, "o")).replace("%n", a))
        io.out(out + "\n")
    return rc


def _uname(sh, args, io):
    io.out(("Linux localhost 4.14.117-perf aarch64" if "-a" in args else
            "aarch64" if "-m" in args else "Linux") + "\n")
    return 0


def _cd(sh, args, io):
    target = normalize(args[0] if args else "/", sh.cwd)
    if not sh.host(target).is_dir():
        io.err(f"/system/bin/sh: cd: {args[0]}: No such file or directory\n"); return 2
    sh.cwd = target
    return 0


BUILTINS = {"getprop": _getprop, "cat": _cat, "ls": _ls, "mkdir": _mkdir, "chmod": _chmod, "rm": _rm,
            "touch": _touch, "echo": _echo, "test": _test, "[": _test, "sleep": _sleep,
            "sha256sum": _sha256sum, "stat": _stat, "uname": _uname, "cd": _cd,
            "true": lambda sh, a, io: 0, "false": lambda sh, a, io: 1}
