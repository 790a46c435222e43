"""Entry point of the child process started by converters.isolate (run_isolated and ForkServer).

    python -m converters._child REQUEST.json RESULT.json     run the request now
    python -m converters._child --zygote MODULE,MODULE        import the modules, then for each
                                                             "REQUEST.json<TAB>RESULT.json<TAB>OUTPUT" line
                                                             on stdin fork a process that runs it
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


def _update_environment(changes: dict) -> None:
    """Apply what changed in the parent's environment since the server started ({"set": {...}, "unset": [...]}).
    Only that: the server's own imports may have set variables (thread counts) that must stay as they are."""
    for key in changes.get("unset", []):
        os.environ.pop(key, None)
    os.environ.update(changes.get("set", {}))


def main(request_path: str, result_path: str) -> int:
    request = json.loads(open(request_path).read())
    if request.get("env_changes"):  # forked from a server started earlier (ForkServer): today's environment
        _update_environment(request["env_changes"])
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


def zygote(modules: str) -> int:
    """converters.isolate.ForkServer's server: import once, fork per request, say "started PID" and "ended
    PID EXIT" on stdout (its control channel; a forked process gets its own stdout and stderr: OUTPUT)."""
    from converters.childproc import die_with_parent

    # Started with die_with_parent as its preexec_fn, like every tool child.
    for name in filter(None, modules.split(",")):
        importlib.import_module(name)
    control = sys.stdout
    die_with_server = die_with_parent()  # made here: it records this process as the parent to outlive
    for line in sys.stdin:
        request_path, result_path, output_path = line.rstrip("\n").split("\t")
        control.flush()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                if die_with_server:
                    die_with_server()
                out = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the server's requests are not this process's
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.close(out)
                code = main(request_path, result_path)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # not sys.exit: the server's atexit handlers and buffers are not this process's
        print(f"started {pid}", file=control, flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"ended {pid} {os.waitstatus_to_exitcode(status)}", file=control, flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        sys.exit(zygote(sys.argv[2]))
    sys.exit(main(sys.argv[1], sys.argv[2]))
