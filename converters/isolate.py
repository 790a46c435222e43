"""Run a third-party tool in a child Python process so that a crash cannot take edgekit down.

Paddle-Lite's `Opt` aborts (SIGABRT) on unsupported attributes and segfaults on malformed programs;
paddle2onnx aborts outside its opset range. In a child, a crash becomes a ConversionError naming
the model, the stage and the tool, with the tool's own last words, and whatever the run already
produced stays on disk.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


class WarmChild:
    """A child started before its request is known, importing its heavy modules meanwhile.

    A cold conversion spends its first seconds exporting the Paddle reference; TensorFlow's import
    (about 4 s here) needs nothing from it, so the TFLite child starts then and waits on its stdin for
    the request. It is one-shot and as isolated as run_isolated's child: a crash is a ConversionError,
    and the child ends by itself when its parent goes (EOF on stdin, or the parent-death signal).
    """

    def __init__(self, preload: list[str], env: dict | None = None):
        self.tmp = owned_tempdir(CHILD_PREFIX)
        self.log = open(self.tmp / "output.txt", "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "converters._child", "--warm", ",".join(preload)],
                                     stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=_child_env(env), text=True, preexec_fn=die_with_parent())

    def run(self, target: Callable, kwargs: dict, *, model: str, stage: str, tool: str, cwd: str | Path | None = None,
            timeout: float = 3600) -> dict:
        request, result = self.tmp / "request.json", self.tmp / "result.json"
        request.write_text(json.dumps({"target": _target_name(target), "kwargs": kwargs,
                                       "cwd": str(cwd) if cwd else None}))
        try:
            self.proc.stdin.write(f"{request}\t{result}\n")
            self.proc.stdin.close()
        except OSError:  # it died while importing: its exit status and output say why
            pass
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise ConversionError(model, stage, tool, f"did not finish within {timeout:.0f} s") from None
        self.log.seek(0)
        try:
            return _answer(code, result, self.log.read(), model=model, stage=stage, tool=tool)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child if it still waits (its request never came) and remove its files."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
