"""Latency per backend per model as horizontal bars, one panel per (device, precision, threads).

The seed's SD855 figure is drawn as a hatched grey bar in every panel so a host or simulated number is
never mistaken for it, and a simulated device's panel says SIMULATED in its title.
"""
from __future__ import annotations

from pathlib import Path

from edge_kit.report.tables import BACKEND_LABEL, device_label, is_gpu, is_simulated
from edge_kit.seed import seed_rows

COLORS = {"paddlelite": "#1f77b4", "tflite": "#ff7f0e", "onnxruntime": "#2ca02c", "paddle": "#9467bd",
          "tensorrt": "#8c564b"}


def _panels(records: list[dict]) -> dict[tuple, dict[str, dict[str, float]]]:
    panels: dict[tuple, dict[str, dict[str, float]]] = {}
    for rec in records:
        m = rec.get("measurement") or {}
        if rec.get("status") != "ok" or m.get("median_ms") is None:
            continue
        if is_gpu(rec):  # panels compare against the seed's SD855 bar; GPU figures stay in the tables
            continue
        key = (device_label(rec).replace(" ms", ""), rec.get("precision"), int(rec.get("threads", 1)),
               is_simulated(rec), (rec.get("device_info") or {}).get("cpu_model", ""))
        panels.setdefault(key, {}).setdefault(rec["model"], {})[rec["backend"]] = m["median_ms"]
    return panels


def write_png(records: list[dict], path: Path) -> Path | None:
    """Write the figure; None when nothing is measured (no empty picture)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = _panels(records)
    if not panels:
        return None
    order = [r.model for r in seed_rows()]
    seed_sd855 = {r.model: r.sd855_ms for r in seed_rows()}
    keys = sorted(panels, key=lambda k: (k[3], k[0], k[1], k[2]))
    n_models = max(len(p) for p in panels.values())
    fig, axes = plt.subplots(len(keys), 1, figsize=(12, 1.2 + len(keys) * (0.9 + 0.55 * n_models)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        device, precision, threads, simulated, cpu = key
        data = panels[key]
        models = [m for m in order if m in data] + sorted(m for m in data if m not in order)
        backends = [b for b in COLORS if any(b in data[m] for m in models)]
        series = [(b, BACKEND_LABEL.get(b, b), COLORS[b], "") for b in backends]
        series.append(("seed", "SD855 seed figure (PaddleX, Paddle-Lite on the phone)", "#bbbbbb", "//"))
        height = 0.8 / len(series)
        for i, (b, label, color, hatch) in enumerate(series):
            ys, xs = [], []
            for j, model in enumerate(models):
                v = seed_sd855.get(model) if b == "seed" else data[model].get(b)
                if v is not None:
                    ys.append(j + i * height)
                    xs.append(v)
            if not xs:
                continue
            bars = ax.barh(ys, xs, height=height, color=color, hatch=hatch, label=label, edgecolor="white")
            ax.bar_label(bars, labels=[f"{x:.2f}" for x in xs], fontsize=7, padding=2)
        ax.set_yticks([j + (len(series) - 1) * height / 2 for j in range(len(models))], models)
        ax.invert_yaxis()
        ax.set_xlabel("median latency, ms (batch 1, lower is better)")
        where = f"{device}" + (f" ({cpu})" if cpu and not simulated else "")
        title = f"{where}, {precision}, {threads} thread{'s' if threads != 1 else ''}"
        if simulated:
            title = f"SIMULATED - {title}: not measured on a phone"
        ax.set_title(title, fontsize=10, color="#b00000" if simulated else "black")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("edgekit: measured latency per backend (median of interleaved runs)", fontsize=12)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
