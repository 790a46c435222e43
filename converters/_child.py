"""Entry point of the child process started by converters.isolate.run_isolated."""
import importlib
import json
import sys
import traceback


def main(request_path: str, result_path: str) -> int:
    request = json.loads(open(request_path).read())
    module, func = request["target"].split(":")
    try:
        value = getattr(importlib.import_module(module), func)(**request["kwargs"])
        answer = {"result": value}
        code = 0
    except Exception as exc:  # reported to the parent as a readable error, not a traceback
        from edge_kit.errors import EdgekitError

        # Paddle's dy2static errors are pages long; their last line names the actual problem.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        summary = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
        answer = {"error": str(exc) if isinstance(exc, EdgekitError) else summary,
                  "user_error": isinstance(exc, EdgekitError), "traceback": traceback.format_exc()}
        code = 1
    with open(result_path, "w") as f:
        json.dump(answer, f)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
