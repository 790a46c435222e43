"""A manifest's parity verdict as text: the one renderer behind `edgekit convert`, `edgekit inspect` and
`edgekit parity` (edge_kit.parity makes the verdict; this only says it).

Three styles of the same data:
  "line"   - convert's one-line detail: every metric at full precision, the fp16-weight baseline, the
             reason of a failure ("parity passed: cos 0.999998 max|d| 1.2e-05 top1 100% top5 100%");
  "cell"   - a cell of the zoo's parity table, shorter figures ("passed: top1 100%, cos 0.999998"); an
             arm/opencl .nb that cannot run here shows its x86 twin's verdict ("twin passed");
  "checks" - inspect's lines: the status and reason, then every check with its value and rule.
"""
from __future__ import annotations

from edge_kit.manifest import Manifest

STYLES = ("line", "cell", "checks")
# the order each style lists the metrics in (the cell puts the task's own metric first)
_ORDER = {"line": ("cos", "int8", "top1", "pixels", "miou", "ap50", "boxes"),
          "cell": ("top1", "ap50", "boxes", "pixels", "miou", "cos")}


def render(manifest: Manifest | dict, style: str = "line") -> str:
    """The parity verdict of `manifest` in `style` (one of STYLES); "checks" gives several lines."""
    m = Manifest.of(manifest)
    parity = m.parity or {}
    if style == "checks":
        return _checks(parity)
    if style == "cell":
        return _cell(m, parity)
    if style == "line":
        return _line(m, parity)
    raise ValueError(f"parity style {style!r}; choose from {', '.join(STYLES)}")


def metric_parts(metrics: dict, precision: str | None, style: str) -> list[str]:
    full = style == "line"
    parts: dict[str, str] = {}
    outs = metrics.get("outputs") or []
    if outs and "cosine" in outs[0]:
        worst = min(outs, key=lambda o: o["cosine"])
        parts["cos"] = f"cos {worst['cosine']:.6f}" + (f" max|d| {worst['max_abs']:.2e}" if full else "")
    if full and precision == "int8" and outs:
        parts["int8"] = "per-output max|d| " + ",".join(f"{o['max_abs']:.3g}" for o in outs)
    if "top1_agreement" in metrics:
        parts["top1"] = f"top1 {metrics['top1_agreement']:.0%}" + (
            f" top5 {metrics['top5_agreement']:.0%}" if full else "")
    if "pixel_agreement" in metrics:
        parts["pixels"] = f"pixels {metrics['pixel_agreement']:{'.4%' if full else '.3%'}}"
    if "miou_vs_reference" in metrics:
        parts["miou"] = f"mIoU {metrics['miou_vs_reference']:{'.4f' if full else '.3f'}}"
    if "ap50_vs_reference" in metrics:
        parts["ap50"] = f"AP50 {metrics['ap50_vs_reference']:{'.4f' if full else '.3f'}}"
    if "detections" in metrics:   # fp32: boxes matched one to one
        d = metrics["detections"]
        parts["boxes"] = (f"boxes {sum(x.get('matched', 0) for x in d)}/{sum(x.get('ref_count', 0) for x in d)} matched"
                          + (f", min IoU {min(x['min_iou'] for x in d):.3f}" if full else ""))
    return [parts[k] for k in _ORDER[style] if k in parts]


def _line(m: Manifest, parity: dict) -> str:
    status = parity.get("status")
    metrics = parity.get("metrics", {})
    if status in ("passed", "failed") and metrics:
        detail = f"parity {status}: " + " ".join(metric_parts(metrics, m.precision, "line"))
        base = parity.get("fp16_weight_baseline")
        if base:
            detail += f" (ONNX with fp16-rounded weights: {base['onnx_with_fp16_rounded_weights']:.4f})"
        if parity.get("checked"):
            detail += " [checked: Paddle's simulated-quantization program; ARM int8 kernels not run here]"
        if status == "failed":
            detail += f" -- {parity.get('reason', '')}"
        return detail
    if status == "failed":
        return f"parity failed: {parity.get('reason', '')}"
    if status == "not_run":
        return f"parity not run here ({parity.get('reason', 'no reason recorded')})"
    return parity.get("status", "")


def _cell(m: Manifest, parity: dict) -> str:
    status = parity.get("status", m.status)
    if status not in ("passed", "failed"):   # arm/opencl: trusted as far as the x86 twin
        twin = parity.get("x86_twin", {}).get("status")
        return f"twin {twin}" if twin else str(status)
    parts = metric_parts(parity.get("metrics", {}), m.precision, "cell")
    base = parity.get("fp16_weight_baseline")
    if base:
        parts.append(f"(fp16-weight baseline {base['onnx_with_fp16_rounded_weights']:.3f})")
    return f"{status}: " + ", ".join(parts)


def _checks(parity: dict) -> str:
    lines = [f"  parity: {parity.get('status')}" + (f" -- {parity['reason']}" if parity.get("reason") else "")]
    for c in parity.get("checks", []):
        lines.append(f"    {'ok ' if c['passed'] else 'BAD'} {c['name']} = {c['value']:.6g} ({c['rule']})")
    return "\n".join(lines)
