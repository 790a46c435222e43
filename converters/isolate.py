"""Run a third-party tool in a child Python process so that a crash cannot take edgekit down.

Paddle-Lite's `Opt` aborts (SIGABRT) on unsupported attributes and segfaults on malformed programs;
paddle2onnx aborts outside its opset range. In a child, a crash becomes a ConversionError naming
the model, the stage and the tool, with the tool's own last words, and whatever the run already
produced stays on disk.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from converters.childproc import describe_exit, die_with_parent, owned_tempdir, refused_task, task_table
from converters.errors import ConversionError, EdgekitError

CHILD_PREFIX = "edgekit-child-"  # + pid + "-": a tool child's request, result and output

_NOISE = ("warn", "i1127", "i0000", "w0000", "cudart_stub", "ccache", "UserWarning")


def _last_words(stderr: str, limit: int = 3) -> str:
    """The lines that explain a failure: Lite's `[F ...] Check failed`, a Python exception, else the tail."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("[F ") or "Check failed" in ln or "Error" in ln.split(":")[0]]
    picked = fatal[-limit:] if fatal else [ln for ln in lines if not any(n in ln for n in _NOISE)][-limit:]
    return " | ".join(picked)[:600]


def _child_env(env: dict | None) -> dict:
    child_env = {**os.environ, **(env or {})}
    # The child must import this project from the same place as the parent. From a checkout this package
    # is top-level (`converters`) and its parent directory also holds edge_kit/ (whose child functions,
    # e.g. the zoo export, run here too); a wheel installs it inside edge_kit (as edge_kit.converters),
    # where the child's interpreter finds it without help.
    if "." not in __package__:
        root = str(Path(__file__).resolve().parent.parent)
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH", "")) if p)
    return child_env


def _starved(detail: str, output: str) -> str:
    """`detail`, led by the real cause when the child's output shows the kernel refused it a thread or a process:
    the task table was full (other jobs' threads), which no error raised after it names."""
    refused = refused_task(output)
    if not refused:
        return detail
    table = task_table()
    return (f"the machine refused a new thread or process ({refused}){'; now ' + table if table else ''}: "
            f"other jobs hold the task table, run it again when they finish (then: {detail})")


def _answer(returncode: int, result: Path, output: str, *, model: str, stage: str, tool: str) -> dict:
    """The child's JSON result, or its failure as a ConversionError (or the user's EdgekitError)."""
    if result.exists():
        answer = json.loads(result.read_text())
        if "error" in answer:
            if answer.get("user_error"):
                raise EdgekitError(answer["error"])
            raise ConversionError(model, stage, tool, _starved(answer["error"], f"{output}\n{answer['error']}"))
        if returncode == 0:
            return answer["result"]
    detail = describe_exit(returncode)
    words = _last_words(output)
    raise ConversionError(model, stage, tool, _starved(f"{detail}{': ' + words if words else ''}", output))


def _target_name(target: Callable) -> str:
    """How the child finds `target`: its module and name. Only a module-level function of an importable
    module can be found again in a fresh interpreter, so anything else is refused here, in the parent."""
    module, name = getattr(target, "__module__", None), getattr(target, "__qualname__", "")
    if not callable(target) or isinstance(target, str) or not module or module == "__main__" or "." in name \
            or "<" in name:
        raise TypeError(f"run_isolated needs a module-level function of an importable module, not {target!r}")
    return f"{module}:{name}"


def run_isolated(target: Callable, kwargs: dict, *, model: str, stage: str, tool: str,
                 env: dict | None = None, cwd: str | Path | None = None, timeout: float = 3600) -> dict:
    """Call `target` (a module-level function, e.g. converters.paddle_lite.child_opt) with JSON-able kwargs
    in a child process; return its JSON-able result. The child imports the function by its module and
    name, so it sees the same code the parent does."""
    tmp = owned_tempdir(CHILD_PREFIX)   # named for this process: the next run removes it if we are killed
    try:
        request = tmp / "request.json"
        result = tmp / "result.json"
        request.write_text(json.dumps({"target": _target_name(target), "kwargs": kwargs}))
        try:
            proc = subprocess.run([sys.executable, "-m", "converters._child", str(request), str(result)],
                                  cwd=cwd, env=_child_env(env), capture_output=True, text=True, timeout=timeout,
                                  preexec_fn=die_with_parent())  # kill -9 of edgekit ends the tool too
        except subprocess.TimeoutExpired:
            raise ConversionError(model, stage, tool, f"did not finish within {timeout:.0f} s") from None
        return _answer(proc.returncode, result, proc.stderr + proc.stdout, model=model, stage=stage, tool=tool)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class ForkServer:
    """A child that imports a toolchain once and forks a fresh process for each request (a "zygote").

    TensorFlow's import costs onnx2tf's child about 5 s of CPU, paid once per conversion before; a zoo
    conversion has ten. The server imports it once and forks per request: each conversion still runs in
    its own process (fresh state, its own crash), started in milliseconds. Its TFLite files are byte for
    byte those of a fresh child (tests/test_conversion_speed.py). A crash ends the forked process only and
    becomes a ConversionError with its last words; the server takes the next request. If the server itself
    dies, the request fails the same way and fork_server() starts a new one next time. Everything it starts
    dies with edgekit (the parent-death signal at each level, and EOF on its stdin).

    Control protocol (converters._child zygote): "REQUEST<TAB>RESULT<TAB>OUTPUT" lines on its stdin; it
    answers "started PID" and, when that process ends, "ended PID EXIT" (negative EXIT: killed by a signal).
    """

    def __init__(self, preload: list[str], env: dict | None = None):
        self.key, self.env = _pool_key(preload, env), env
        self.tmp = owned_tempdir(CHILD_PREFIX)
        self.log = open(self.tmp / "server.txt", "w+")
        self.started_env = _child_env(env)
        self.proc = subprocess.Popen([sys.executable, "-m", "converters._child", "--zygote", ",".join(preload)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, bufsize=0,
                                     env=self.started_env, preexec_fn=die_with_parent())
        self._buf, self._count, self._lock = b"", 0, threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _line(self, deadline: float) -> str | None:
        """The next control line; None at EOF (the server died), "" when the deadline passed."""
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return ""
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def run(self, target: Callable, kwargs: dict, *, model: str, stage: str, tool: str,
            cwd: str | Path | None = None, timeout: float = 3600) -> dict:
        with self._lock:
            self._count += 1
            files = [self.tmp / f"{self._count}.{n}" for n in ("request.json", "result.json", "output.txt")]
            request, result, output = files
            # the environment of now, as run_isolated's child would get it: what changed since the server started
            now = _child_env(self.env)
            changes = {"set": {k: v for k, v in now.items() if self.started_env.get(k) != v},
                       "unset": [k for k in self.started_env if k not in now]}
            request.write_text(json.dumps({"target": _target_name(target), "kwargs": kwargs,
                                           "cwd": str(cwd) if cwd else None, "env_changes": changes}))
            deadline = time.monotonic() + timeout
            try:
                try:
                    self.proc.stdin.write(("\t".join(map(str, files)) + "\n").encode())
                except OSError:  # it died while importing: its exit status and output say why
                    pass
                started = self._line(deadline)
                pid = int(started.split()[1]) if started else None
                ended = self._line(deadline) if pid else started
                if ended == "":  # over time: end the request's process (or the server, still importing)
                    if pid:
                        os.kill(pid, signal.SIGKILL)
                    if not pid or not self._line(time.monotonic() + 30):
                        self.proc.kill()  # out of step with its requests: never used again
                        self.proc.wait()
                if ended == "":
                    raise ConversionError(model, stage, tool, f"did not finish within {timeout:.0f} s")
                words = output.read_text(errors="replace") if output.exists() else ""
                if ended is None:  # the server died: it and its last words are the failure
                    self.proc.wait()
                    self.log.seek(0)
                    return _answer(self.proc.returncode or 1, result, words + self.log.read(),
                                   model=model, stage=stage, tool=tool)
                return _answer(int(ended.split()[2]), result, words, model=model, stage=stage, tool=tool)
            finally:
                for f in files:
                    f.unlink(missing_ok=True)

    def close(self) -> None:
        """End the server (EOF on its stdin, then SIGKILL if it lingers) and remove its files."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# Servers not in use, by toolchain: a conversion takes one (fork_server) and gives it back (release), so the
# next conversion in this process, e.g. the next model of `edgekit convert A B C`, skips the import.
_POOL: dict[tuple, list[ForkServer]] = {}
_POOL_LOCK = threading.Lock()


def _pool_key(preload: list[str], env: dict | None) -> tuple:
    return tuple(preload), tuple(sorted((env or {}).items()))


def fork_server(preload: list[str], env: dict | None = None) -> ForkServer:
    """An idle server for this toolchain from the pool, else a new one (it imports while the caller works)."""
    with _POOL_LOCK:
        idle = _POOL.get(_pool_key(preload, env), [])
        while idle:
            server = idle.pop()
            if server.alive():
                return server
            server.close()
    return ForkServer(preload, env)


def release(server: ForkServer) -> None:
    """Give a server back to the pool; a dead one is removed (and replaced when next asked for)."""
    if server.alive():
        with _POOL_LOCK:
            _POOL.setdefault(server.key, []).append(server)
    else:
        server.close()


def run_forked(target: Callable, kwargs: dict, preload: list[str], env: dict | None = None, **how) -> dict:
    """run_isolated's contract (a crash is one ConversionError), in a process forked from a pooled server that
    has `preload` imported already: a zoo conversion's Paddle children import Paddle once per job slot and
    environment instead of once each."""
    server = fork_server(preload, env)
    try:
        return server.run(target, kwargs, **how)
    finally:
        release(server)


@atexit.register
def close_idle_servers() -> None:
    with _POOL_LOCK:
        servers = [s for idle in _POOL.values() for s in idle]
        _POOL.clear()
    for server in servers:
        server.close()
