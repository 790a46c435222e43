"""The one table of what edgekit makes and runs: formats, their targets and precisions, and the runtime
(bench backend) that runs each.

Everything that lists formats reads this module: `convert --to` and `bench --backend` choices and help,
bench planning (which artifact a backend needs, which cells exist on the host), `inspect` (suffix ->
format, "runs here?"), the report's labels, column order and colours, and the README's table
(`edgekit formats --markdown` prints it; a test keeps the README in step).

Adding a format (say NCHW-packed NCNN) is one `Format` row + one `Runtime` row here, one converter module
(converters/, called from the conversion pipeline) and one runtime module (edge_kit/runtimes/). A format
made from the verified ONNX artifact (like `ort`) says so with `from_onnx`, and the pipeline's generic
stage makes, describes and verifies it: no stage code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

FLOAT_PRECISIONS = ("fp32", "fp16")
PRECISIONS = FLOAT_PRECISIONS + ("int8",)   # int8 needs a calibration set (edge_kit.datasets)


@dataclass(frozen=True)
class FromOnnx:
    """How a format is made from the verified ONNX artifact by the generic stage
    (edge_kit.conversion.stages.Pipeline.from_onnx). Functions are "module:function" names, like
    Runtime.host: the table stays declarative (and `edgekit formats --json`), imports stay lazy."""
    child: str                   # converters/ function run in a child: child(onnx_file, out_file) -> manifest fields
    reader: str                  # reader(path) -> (inputs, outputs, ops) as manifests record them; also `inspect`'s
    tool: str                    # the tool's name in logs and errors
    tools: tuple[str, ...]       # distributions whose versions key the cache entry and go in the manifest


@dataclass(frozen=True)
class Format:
    name: str                    # the manifest's "format"
    label: str                   # short name in report tables
    suffixes: tuple[str, ...]    # file suffixes `inspect` recognises
    graph: str                   # which export the converter starts from: "deploy" (app-adapted) | "raw"
    targets: tuple[str, ...]     # the manifest's "target" values this format has
    host_target: Optional[str]   # the target that runs on this x86 machine (None: none does)
    precisions: tuple[str, ...]  # what edgekit can make (or import) in this format
    runtime: str                 # the Runtime (bench backend) that runs it
    converted: bool              # offered by `edgekit convert --to`
    what: str                    # one line for help text and the README
    from_onnx: Optional[FromOnnx] = None   # made from the ONNX artifact by the generic stage (None: own stage)
    default: bool = True         # in `convert`'s default --to (False: opt-in, named explicitly)


@dataclass(frozen=True)
class Runtime:
    name: str                      # the bench backend name, recorded in every result
    format: str                    # the artifact format it runs
    label: str                     # report / runs-here wording
    package: Optional[str]         # the distribution whose version is recorded (None: not a Python package)
    host: Optional[str]            # "module:Class" of the host runtime (edge_kit.runtimes), None: no host runner
    host_precisions: tuple[str, ...] = ("fp32",)   # cells that exist on the host
    host_threads: Optional[int] = None             # the only thread count the host runner can set (None: any)
    phone_tool: Optional[str] = None               # on-device benchmark tool (android_runner.tools)
    colour: str = "#777777"                        # report plot colour
    why_not_here: str = ""                         # for runtimes that cannot run on this machine
    default: bool = True                           # in `bench`'s default backends (False: opt-in, --backend)


FORMATS: tuple[Format, ...] = (
    Format("paddle", "Paddle", (".pdmodel", ".json"), "deploy", ("cpu",), "cpu", ("fp32",), "paddle", False,
           "the Paddle inference program every artifact is checked against"),
    Format("paddlelite", ".nb", (".nb",), "deploy", ("arm", "opencl", "x86"), "x86", PRECISIONS, "paddlelite", True,
           "Paddle-Lite optimized model for the Paddle-Lite demo apps (arm, opencl; x86 twin for checks)"),
    Format("onnx", "ONNX", (".onnx",), "raw", ("cpu",), "cpu", ("fp32",), "onnxruntime", True,
           "ONNX (paddle2onnx), the input of the TFLite and TensorRT paths"),
    Format("tflite", "TFLite", (".tflite",), "raw", ("cpu",), "cpu", PRECISIONS, "tflite", True,
           "TensorFlow Lite flatbuffer (onnx2tf) for LiteRT / the TFLite Task Library apps"),
    Format("ort", "ORT", (".ort",), "raw", ("cpu",), "cpu", ("fp32",), "ort", True,
           "ONNX Runtime Mobile's ORT format (onnxruntime's converter, from the ONNX); opt-in: "
           "`convert --to ort`, `bench --backend ort`",
           from_onnx=FromOnnx("converters.ort_format:child_onnx_to_ort", "converters.ort_format:ort_io_and_ops",
                              "convert_onnx_models_to_ort", ("onnxruntime",)), default=False),
    Format("tensorrt", "TensorRT", (".engine", ".plan"), "raw", ("gpu",), None, FLOAT_PRECISIONS, "tensorrt", False,
           "TensorRT engine: built and timed by `edgekit bench --device gpu` on an NVIDIA GPU, or a trtexec log imported"),
)

RUNTIMES: tuple[Runtime, ...] = (
    Runtime("paddlelite", "paddlelite", "Paddle-Lite", "paddlelite", "edge_kit.runtimes.paddlelite:PaddleLite",
            host_threads=1, phone_tool="benchmark_bin", colour="#1f77b4"),
    Runtime("tflite", "tflite", "LiteRT", "ai-edge-litert", "edge_kit.runtimes.litert:LiteRT",
            host_precisions=PRECISIONS, phone_tool="benchmark_model", colour="#ff7f0e"),
    Runtime("onnxruntime", "onnx", "onnxruntime", "onnxruntime", "edge_kit.runtimes.onnxruntime:OnnxRuntime",
            colour="#2ca02c"),
    Runtime("ort", "ort", "onnxruntime .ort", "onnxruntime", "edge_kit.runtimes.ort:OrtFormat",
            colour="#bcbd22", default=False),
    Runtime("paddle", "paddle", "Paddle Inference", "paddlepaddle", "edge_kit.runtimes.paddle:PaddleInference",
            colour="#9467bd"),
    Runtime("tensorrt", "tensorrt", "TensorRT", "tensorrt", None, host_precisions=(), colour="#8c564b",
            why_not_here="a TensorRT engine needs the GPU and TensorRT version it was built for"),
)

_FORMAT = {f.name: f for f in FORMATS}
_RUNTIME = {r.name: r for r in RUNTIMES}

FORMAT_NAMES = tuple(f.name for f in FORMATS)                       # report order
RUNTIME_NAMES = tuple(r.name for r in RUNTIMES)                     # report order
CONVERT_FORMATS = tuple(f.name for f in FORMATS if f.converted)     # `convert --to`
DEFAULT_CONVERT_FORMATS = tuple(f for f in CONVERT_FORMATS if _FORMAT[f].default)   # `convert`'s default --to
ONNX_DERIVED = tuple(f.name for f in FORMATS if f.from_onnx)         # made by the generic from-ONNX stage
HOST_RUNTIMES = tuple(r.name for r in RUNTIMES if r.host)           # have a host runner
LITE_TARGETS = tuple(t for t in _FORMAT["paddlelite"].targets if t != _FORMAT["paddlelite"].host_target)


def fmt(name: str) -> Format:
    return _FORMAT[name]


def runtime(name: str) -> Runtime:
    return _RUNTIME[name]


def runtime_for(format_name: str) -> Optional[Runtime]:
    """The runtime (bench backend) that runs artifacts of this format."""
    f = _FORMAT.get(format_name)
    return _RUNTIME[f.runtime] if f else None


def format_of_suffix(suffix: str) -> Optional[str]:
    return next((f.name for f in FORMATS if suffix in f.suffixes), None)


def runs_here(format_name: str, target: Optional[str]) -> tuple[bool, str]:
    """Whether an artifact of this format/target runs on this x86 machine, and why (for `inspect`)."""
    f, rt = _FORMAT.get(format_name), runtime_for(format_name)
    if f is None or rt is None:
        return False, f"no: edgekit has no runtime for {format_name!r}"
    if rt.host is None:
        return False, f"no: {rt.why_not_here}"
    if len(f.targets) > 1 and target != f.host_target:   # e.g. an arm .nb on this x86 machine
        hint = " (edgekit bench --device sd855 --artifact FILE)" if rt.phone_tool else ""
        return False, (f"no: this {target or 'device'} {f.label} holds {str(target).upper()} kernels; "
                       f"run it on a phone{hint}")
    return True, f"yes: {rt.label}{' x86' if len(f.targets) > 1 else ''} on this machine"


def markdown_table() -> str:
    """The README's formats table."""
    rows = ["| Format | Targets | Precisions | Runtime (bench backend) | On the host | What |",
            "|---|---|---|---|---|---|"]
    for f in FORMATS:
        rt = _RUNTIME[f.runtime]
        host = (f"{', '.join(rt.host_precisions)}" + (f", {rt.host_threads} thread" if rt.host_threads else "")
                if rt.host else "no")
        rows.append(f"| `{f.name}` ({f.label}) | {', '.join(f.targets)} | {', '.join(f.precisions)} | "
                    f"{rt.label} (`{rt.name}`) | {host} | {f.what} |")
    return "\n".join(rows)
