"""Summarise PPYOLO's one conversion for the record (issue 14) into bench_results/ppyolo_conversion.json.

Reads what the runs left, nothing is re-measured: the `--json` answer of `edgekit convert PPYOLO -o OUT
--json`, the manifests `edgekit trtexec-commands PPYOLO -o TRT` wrote, and the logs of both runs made under
`/usr/bin/time -v` with the load average printed before and after (os.getloadavg()):

    python scripts/ppyolo_record.py --convert-json J --convert-log L --trt-dir TRT --trt-log L2 [-o OUT]
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge_kit.manifest import Artifact  # noqa: E402


def run_log(path: Path) -> dict:
    """Wall, CPU, peak RSS (/usr/bin/time -v) and the load averages a run log printed."""
    text = path.read_text()

    def grab(pattern, cast=float):
        m = re.search(pattern, text, re.M)
        return cast(m.group(1)) if m else None

    wall = grab(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", str)
    parts = [float(p) for p in wall.split(":")] if wall else []
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts))) if parts else None
    loads = {k: json.loads(v.replace("(", "[").replace(")", "]"))
             for k, v in re.findall(r"^(load_before|load_after) (\(.*\))$", text, re.M)}
    cpu = grab(r"User time \(seconds\): (\S+)") + grab(r"System time \(seconds\): (\S+)")
    return {"wall_s": seconds, "cpu_s": round(cpu, 2),
            "peak_rss_mb": round(grab(r"Maximum resident set size \(kbytes\): (\d+)") / 1024, 1),
            "load_average_1_5_15": loads, "started_utc": grab(r"^(\w{3} \w{3} +\d+ [\d:]+ UTC \d{4})$", str)}


def _cpu() -> str:
    info = Path("/proc/cpuinfo")
    names = re.findall(r"^model name\s*: (.*)$", info.read_text(), re.M) if info.exists() else []
    return f"{names[0]} x{len(names)}" if names else platform.machine()


def artifact_row(m: dict) -> dict:
    p = m.get("parity") or {}
    met = p.get("metrics") or {}
    row = {k: m.get(k) for k in ("format", "target", "precision", "status", "bytes", "seconds", "verify_seconds",
                                 "opset", "deform_conv_rewritten", "export_fixes", "kernel_precisions", "reason")
           if m.get(k) not in (None, {}, "")}
    row["parity"] = {"status": p.get("status"), "reason": p.get("reason") or None,
                     "ap50_vs_reference": met.get("ap50_vs_reference"), "boxes_reference": met.get("boxes_reference"),
                     "worst_cosine": min((o["cosine"] for o in met.get("outputs", [])), default=None),
                     "max_abs": max((o["max_abs"] for o in met.get("outputs", [])), default=None),
                     "detections": [{k: d[k] for k in ("ref_count", "matched", "min_iou", "max_score_diff")}
                                    for d in met.get("detections", [])] or None}
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--convert-json", type=Path, required=True)
    ap.add_argument("--convert-log", type=Path, required=True)
    ap.add_argument("--trt-dir", type=Path, required=True)
    ap.add_argument("--trt-log", type=Path, required=True)
    ap.add_argument("-o", "--output", type=Path, default=Path("bench_results/ppyolo_conversion.json"))
    args = ap.parse_args()
    conv = json.loads(args.convert_json.read_text())
    trt = [Artifact.load(p).manifest.to_dict() for p in sorted(args.trt_dir.glob("*/*.trt.*.onnx"))]
    record = {
        "what": "PPYOLO (edge_kit/zoo/ppyolo.py, untrained seeded weights) converted once at 608x608 for the record",
        "machine": {"cpu": _cpu(), "python": platform.python_version(),
                    "note": "2 cores shared with other jobs (load averages below); timings are under load"},
        "versions": {p: version(p) for p in ("paddlepaddle", "paddlelite", "paddle2onnx", "onnx", "onnxruntime",
                                              "onnxconverter-common")},
        "convert": {"command": "edgekit convert PPYOLO -o OUT --json", **run_log(args.convert_log),
                    "edgekit_seconds": conv.get("seconds"), "stages": conv.get("stages"),
                    "artifacts": [artifact_row(a.get("manifest", a)) for a in conv["artifacts"]]},
        "trtexec_commands": {"command": "edgekit trtexec-commands PPYOLO --trt 10 -o TRT", **run_log(args.trt_log),
                             "prepared": [artifact_row(m) for m in trt]},
    }
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
