"""Run a third-party tool in a child Python process so that a crash cannot take edgekit down.

Paddle-Lite's `Opt` aborts (SIGABRT) on unsupported attributes and segfaults on malformed programs;
paddle2onnx aborts outside its opset range. In a child, a crash becomes a ConversionError naming
the model, the stage and the tool, with the tool's own last words, and whatever the run already
produced stays on disk.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from edge_kit.childproc import die_with_parent
from edge_kit.errors import ConversionError, EdgekitError

_NOISE = ("warn", "i1127", "i0000", "w0000", "cudart_stub", "ccache", "UserWarning")


def _last_words(stderr: str, limit: int = 3) -> str:
    """The lines that explain a failure: Lite's `[F ...] Check failed`, a Python exception, else the tail."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("[F ") or "Check failed" in ln or "Error" in ln.split(":")[0]]
    picked = fatal[-limit:] if fatal else [ln for ln in lines if not any(n in ln for n in _NOISE)][-limit:]
    return " | ".join(picked)[:600]


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = {"SIGSEGV": "segmentation fault", "SIGABRT": "aborted", "SIGKILL": "killed (out of memory?)"}
        return f"crashed: {what.get(name, name)}"
    return f"exited with status {code}"


def run_isolated(target: str, kwargs: dict, *, model: str, stage: str, tool: str,
                 env: dict | None = None, cwd: str | Path | None = None, timeout: float = 3600) -> dict:
    """Call `target` ("package.module:function") with JSON-able kwargs in a child; return its JSON-able result."""
    with tempfile.TemporaryDirectory(prefix="edgekit-child-") as tmp:
        request = Path(tmp) / "request.json"
        result = Path(tmp) / "result.json"
        request.write_text(json.dumps({"target": target, "kwargs": kwargs}))
        child_env = {**os.environ, **(env or {})}
        # The child must import this project from the same place as the parent.
        root = str(Path(__file__).resolve().parent.parent)
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH", "")) if p)
        try:
            proc = subprocess.run([sys.executable, "-m", "converters._child", str(request), str(result)],
                                  cwd=cwd, env=child_env, capture_output=True, text=True, timeout=timeout,
                                  preexec_fn=die_with_parent())  # kill -9 of edgekit ends the tool too
        except subprocess.TimeoutExpired:
            raise ConversionError(model, stage, tool, f"did not finish within {timeout:.0f} s") from None
        if result.exists():
            answer = json.loads(result.read_text())
            if "error" in answer:
                if answer.get("user_error"):
                    raise EdgekitError(answer["error"])
                raise ConversionError(model, stage, tool, answer["error"])
            if proc.returncode == 0:
                return answer["result"]
        detail = _describe_exit(proc.returncode)
        words = _last_words(proc.stderr + proc.stdout)
        raise ConversionError(model, stage, tool, f"{detail}{': ' + words if words else ''}")
