"""Entry point of the child process started by converters.isolate (run_isolated and WarmChild).

    python -m converters._child REQUEST.json RESULT.json     run the request now
    python -m converters._child --warm MODULE,MODULE          import the modules, then read
                                                             "REQUEST.json<TAB>RESULT.json" from stdin
"""
import importlib
import json
import os
import sys
import traceback


def _last_line(exc: BaseException) -> str:
    # Paddle's dy2static errors are pages long; their last line names the actual problem.
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"


def _summary(exc: BaseException) -> str:
    """The exception's last line, and the first one in its chain (`raise ... from`, or raised while handling
    another) when that is a different one: numpy's import error ends "relaunch your python interpreter from
    there." whatever went wrong; what did go wrong is at the start of the chain."""
    root, seen = exc, {id(exc)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        root = nxt
        seen.add(id(root))
    first, last = _last_line(root), _last_line(exc)
    return last if root is exc or first == last else f"{last} (from {first})"


def main(request_path: str, result_path: str) -> int:
    request = json.loads(open(request_path).read())
    if request.get("cwd"):
        os.chdir(request["cwd"])
    module, func = request["target"].split(":")
    try:
        value = getattr(importlib.import_module(module), func)(**request["kwargs"])
        answer = {"result": value}
        code = 0
    except Exception as exc:  # reported to the parent as a readable error, not a traceback
        from converters.errors import EdgekitError

        summary = _summary(exc)
        answer = {"error": str(exc) if isinstance(exc, EdgekitError) else summary,
                  "user_error": isinstance(exc, EdgekitError), "traceback": traceback.format_exc()}
        code = 1
    with open(result_path, "w") as f:
        json.dump(answer, f)
    return code


def warm(modules: str) -> int:
    # Started with converters.childproc.die_with_parent as its preexec_fn, like every tool child.
    for name in filter(None, modules.split(",")):
        importlib.import_module(name)
    line = sys.stdin.readline()
    if not line.strip():  # the parent closed stdin without a request: nothing to do
        return 0
    request_path, result_path = line.rstrip("\n").split("\t")
    return main(request_path, result_path)


if __name__ == "__main__":
    if sys.argv[1] == "--warm":
        sys.exit(warm(sys.argv[2]))
    sys.exit(main(sys.argv[1], sys.argv[2]))
