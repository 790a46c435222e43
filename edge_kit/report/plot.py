"""Latency per model as horizontal bars, one panel per machine (the host, a phone, a simulated phone);
each bar is one backend / precision / thread count, on a log axis so 2 ms mobile models and 600 ms
detectors are both readable.

The seed's SD855 figure is drawn as a hatched grey bar in every panel so a host or simulated number is
never mistaken for it; a noisy cell (spread above 15% after a re-measure) is cross-hatched and its label
ends in "noisy"; a simulated device's panel says SIMULATED in its title.
"""
from __future__ import annotations

import math
from pathlib import Path

from edge_kit import formats
from edge_kit.bench.record import BenchRecord
from edge_kit.report.tables import BACKEND_LABEL, device_label, is_gpu, is_simulated
from edge_kit.seed import seed_rows

COLORS = {r.name: r.colour for r in formats.RUNTIMES}
PRECISION_ORDER = {"fp32": 0, "fp16": 1, "int8": 2}
SHADES = (1.0, 0.65, 0.4, 0.25)  # lighter for each further (precision, threads) of the same backend


def _panels(records: list[BenchRecord | dict]) -> dict[tuple, dict[str, dict[tuple, tuple[float, bool]]]]:
    """(machine label, simulated) -> model -> (backend, precision, threads) -> (median ms, noisy)."""
    panels: dict[tuple, dict] = {}
    for rec in map(BenchRecord.of, records):
        m = rec.measurement or {}
        value = m.get("median_ms") if m.get("median_ms") is not None else m.get("mean_ms")
        if not rec.ok or value is None:
            continue
        if is_gpu(rec):  # panels compare against the seed's SD855 bar; GPU figures stay in the tables
            continue
        key = (device_label(rec).replace(" ms", ""), is_simulated(rec))
        series = (rec.backend, str(rec.precision), int(rec.threads) if rec.threads is not None else 1)
        panels.setdefault(key, {}).setdefault(rec.model, {})[series] = (value, rec.noisy)
    return panels


def _shade(color: str, factor: float) -> tuple:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (1 - (1 - r) * factor, 1 - (1 - g) * factor, 1 - (1 - b) * factor)


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
    keys = sorted(panels, key=lambda k: (k[1], k[0]))
    heights = []
    for k in keys:
        n_series = len({s for per in panels[k].values() for s in per}) + 1
        heights.append(1.0 + len(panels[k]) * 0.22 * n_series)
    fig, axes = plt.subplots(len(keys), 1, figsize=(13, 1.0 + sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, key in zip(axes[:, 0], keys):
        machine, simulated = key
        data = panels[key]
        models = [m for m in order if m in data] + sorted(m for m in data if m not in order)
        combos = sorted({s for per in data.values() for s in per},
                        key=lambda s: (list(COLORS).index(s[0]) if s[0] in COLORS else 99,
                                       PRECISION_ORDER.get(s[1], 9), s[2]))
        rank: dict[str, int] = {}
        series = []
        for b, prec, t in combos:
            shade = SHADES[min(rank.setdefault(b, 0), len(SHADES) - 1)]
            rank[b] += 1
            label = f"{BACKEND_LABEL.get(b, b)} {prec}, {t} thread{'s' if t != 1 else ''}"
            series.append(((b, prec, t), label, _shade(COLORS.get(b, "#777777"), shade), ""))
        series.append(("seed", "SD855 seed figure (PaddleX, Paddle-Lite on the phone)", "#bbbbbb", "//"))
        height = 0.85 / len(series)
        for i, (s, label, color, hatch) in enumerate(series):
            ys, xs, noisy = [], [], []
            for j, model in enumerate(models):
                v, n = (seed_sd855.get(model), False) if s == "seed" else data[model].get(s, (None, False))
                if v is not None:
                    ys.append(j + i * height)
                    xs.append(v)
                    noisy.append(n)
            if not xs:
                continue
            bars = ax.barh(ys, xs, height=height, color=color, hatch=hatch, label=label, edgecolor="white")
            for bar, n in zip(bars, noisy):
                if n:
                    bar.set_hatch("xx")
                    bar.set_edgecolor("#444444")
            ax.bar_label(bars, labels=[f"{x:.2f}{' noisy' if n else ''}" for x, n in zip(xs, noisy)], fontsize=8,
                         padding=2)
        ax.set_xscale("log")
        # bars on a log axis start at the left limit: a whole decade below the smallest value keeps
        # their lengths comparable (6.2 vs 12.4 ms must not look like 1 vs 30)
        values = [v for per in data.values() for v, _ in per.values()] + \
            [seed_sd855[m] for m in models if seed_sd855.get(m)]
        ax.set_xlim(10 ** math.floor(math.log10(max(min(values), 1e-3))), max(values) * 3)  # room for labels
        ax.set_yticks([j + (len(series) - 1) * height / 2 for j in range(len(models))], models, fontsize=10)
        ax.invert_yaxis()
        ax.set_xlabel("median latency, ms, log scale (batch 1, lower is better; phone tools report averages)")
        title = machine
        if simulated:
            title = f"SIMULATED - {machine}: not measured on a phone"
        ax.set_title(title, fontsize=11, color="#b00000" if simulated else "black", loc="left")
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="cross-hatched: noisy",
                  title_fontsize=8)
        ax.grid(axis="x", which="both", alpha=0.3)
    fig.suptitle("edgekit: measured latency per backend (median of interleaved runs)", fontsize=13)
    fig.tight_layout(rect=(0, 0, 1, 0.98))  # leave the suptitle its own band above the first panel
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
