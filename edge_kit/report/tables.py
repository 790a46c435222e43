"""The seed's four tables, in the seed's model order and column order, with edgekit's measured columns
beside the seed's figures.

Rules the columns keep: a seed figure is labelled "(seed)"; a phone measurement goes in an "SD855 ms
(measured)" column only when it came from real hardware; anything from a simulated device lands in
its own "<device> ms (simulated)" column; an empty measured cell reads "not measured" (never 0); an empty
seed cell reads "-" as in the seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from edge_kit import formats
from edge_kit.bench.record import BenchRecord
from edge_kit.estimate import estimated_columns
from edge_kit.seed import seed_rows

NOT_MEASURED = "not measured"
SEED_EMPTY = "-"
SECTIONS = (("classification", "Image classification"), ("detection", "Object detection"),
            ("instance_segmentation", "Instance segmentation"), ("semantic_segmentation", "Semantic segmentation"))
BACKEND_LABEL = {r.name: r.label for r in formats.RUNTIMES}
FORMAT_LABEL = {f.name: f.label for f in formats.FORMATS}
METRIC_LABEL = {"top1": "Top1 % (seed)", "box_mmap": "Box mmAP (seed)", "miou": "mIoU % (seed)"}


@dataclass
class Table:
    section: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def _threads(rec: BenchRecord) -> int:
    return int(rec.threads) if rec.threads is not None else 1


def is_simulated(rec: BenchRecord | dict) -> bool:
    rec = BenchRecord.of(rec)
    return bool(rec.simulated) or str(rec.device or "").split("@")[0].endswith("-sim")


def device_label(rec: BenchRecord | dict) -> str:
    """A phone of a multi-phone run is recorded as PROFILE@SERIAL and gets its own column per serial; the
    same device name measured on several machines gets one column per machine."""
    rec = BenchRecord.of(rec)
    dev, at, serial = str(rec.device if rec.device is not None else "?").partition("@")
    label = rec.extra.get("machine_label")  # edge_kit.report.load_records: several machines, one device name
    which = f" [{label}]" if label else ""
    if is_simulated(rec):
        name = dev if dev.endswith("-sim") else f"{dev}-sim"
        return f"{name}{' ' + serial if at else ''}{which} ms (simulated)"
    if dev.lower() == "sd855":
        return f"SD855{which} ms (measured{', ' + serial if at else ''})"
    return f"{dev}{' ' + serial if at else ''}{which} ms"


def is_gpu(rec: BenchRecord) -> bool:
    return rec.backend == "tensorrt"


def gpu_column(rec: BenchRecord | dict) -> str:
    """'GPU ms (imported), Tesla T4, TensorRT 8.6.1 fp32': which GPU, which TensorRT, how it was obtained.
    Only measured or imported records reach here; the seed's figure stays in its own '(seed)' column."""
    rec = BenchRecord.of(rec)
    prov = rec.provenance or {}
    info = rec.device_info or {}
    how = "imported" if prov.get("source") == "imported" else "measured"
    gpu = prov.get("gpu") or info.get("gpu") or str(rec.device if rec.device is not None else "?").removeprefix("gpu:")
    trt = prov.get("tensorrt_version") or (info.get("runtimes") or {}).get("tensorrt") or "?"
    prec = str(rec.precision)
    if prec == "fp32" and prov.get("tf32"):
        prec += " (TF32 on)"
    if prov.get("data_transfers") is False:
        prec += ", no H2D/D2H"
    return f"GPU ms ({how}), {gpu}, TensorRT {trt} {prec}"


def latency_column(rec: BenchRecord | dict) -> str:
    rec = BenchRecord.of(rec)
    if is_gpu(rec):
        return gpu_column(rec)
    t = _threads(rec)
    backend = BACKEND_LABEL.get(rec.backend, rec.backend)
    return f"{device_label(rec)}, {backend} {rec.precision}, {t} thread{'s' if t != 1 else ''}"


def storage_column(rec: BenchRecord) -> str | None:
    art = rec.artifact or {}
    if not art.get("bytes"):
        return None
    fmt = FORMAT_LABEL.get(art.get("format"), art.get("format"))
    target = f" {art['target']}" if art.get("format") == "paddlelite" else ""
    prec = "" if art.get("format") == "paddle" else f" {art.get('precision')}"
    return f"MB (measured), {fmt}{target}{prec}"


def fmt_ms(v) -> str:
    if v is None:
        return NOT_MEASURED
    return f"{v:.3f}" if v < 1 else f"{v:.2f}"


def _seed(v) -> str:
    return SEED_EMPTY if v is None or v == "" else str(v)  # the seed's own digits, e.g. 19.30835


BACKEND_ORDER = formats.RUNTIME_NAMES
FORMAT_ORDER = formats.FORMAT_NAMES


def _rank(order: tuple, value) -> int:
    return order.index(value) if value in order else len(order)


def _column_order(rec: BenchRecord) -> tuple:
    # SD855 measured first (beside the seed's SD855), then simulated devices, then the host; within a
    # device: backend, precision, threads ascending
    col = latency_column(rec)
    dev = -1 if is_gpu(rec) else 0 if col.startswith("SD855") else 1 if "(simulated)" in col else 2
    return (dev, device_label(rec), _rank(BACKEND_ORDER, rec.backend), str(rec.precision), _threads(rec))


def build_tables(records: list[BenchRecord | dict]) -> list[Table]:
    """records: the latest record per cell (ResultStore.latest().values())."""
    records = [BenchRecord.of(r) for r in records]
    seed_models = {r.model for r in seed_rows()}
    lat: dict[str, dict[str, BenchRecord]] = {}      # model -> column -> record
    size: dict[str, dict[str, float]] = {}    # model -> storage column -> MB
    order: dict[str, tuple] = {}              # column -> sort key
    others: dict[str, dict[str, BenchRecord]] = {}   # models not in the seed tables (a user's own artifacts)
    for rec in records:
        if rec.model not in seed_models:
            others.setdefault(str(rec.model), {})[latency_column(rec)] = rec
            order[latency_column(rec)] = _column_order(rec)
            continue
        lat.setdefault(rec.model, {})[latency_column(rec)] = rec
        order[latency_column(rec)] = _column_order(rec)
        scol = storage_column(rec)
        if scol:
            order[scol] = (_rank(FORMAT_ORDER, rec.artifact.get("format")), scol)
        if scol and rec.ok:
            size.setdefault(rec.model, {})[scol] = rec.artifact["bytes"] / 1e6
    tables = []
    for section, title in SECTIONS:
        rows = [r for r in seed_rows() if r.task == section]
        names = {r.model for r in rows}
        all_cols = sorted({c for m in names for c in lat.get(m, {})}, key=order.__getitem__)
        gpu_cols = [c for c in all_cols if c.startswith("GPU ms (")]  # right beside the seed's GPU figure
        lat_cols = [c for c in all_cols if c not in gpu_cols]
        size_cols = sorted({c for m in names for c in size.get(m, {})}, key=order.__getitem__)
        has_sd855 = any(r.sd855_ms is not None for r in rows)
        if has_sd855 and not any(c.startswith("SD855") for c in lat_cols):
            lat_cols = ["SD855 ms (measured)"] + lat_cols  # the slot a phone run fills
        speed_seed = ["GPU ms bs=1 (seed)"] if section != "semantic_segmentation" else ["Speed ms (seed)"]
        speed_seed += gpu_cols
        if has_sd855:
            speed_seed.append("SD855 ms (seed)")
        metric = rows[0].metric
        metric_cols = (["Box mmAP (seed)", "Seg mmAP (seed)"] if "/" in metric
                       else [METRIC_LABEL.get(metric, f"{metric} (seed)")])
        # Estimated SD855 columns (edge_kit.estimate): only where the leave-one-out error is known; kept in
        # their own columns, never mixed into measured or simulated ones.
        est, est_notes = estimated_columns(records) if section == "classification" else ({}, [])
        columns = ["Model", "Storage MB (seed)", *size_cols, *speed_seed, *lat_cols, *est, *metric_cols]
        notes, body = list(est_notes), []
        for r in rows:
            line = [r.model, _seed(r.storage_mb)]
            line += [f"{size[r.model][c]:.2f}" if c in size.get(r.model, {}) else NOT_MEASURED for c in size_cols]
            line.append(_seed(r.gpu_ms) if section != "semantic_segmentation" else SEED_EMPTY)
            for c in gpu_cols:
                line.append(_latency_cell(lat.get(r.model, {}).get(c), r.model, c, notes))
            if has_sd855:
                line.append(_seed(r.sd855_ms))
            for c in lat_cols:
                line.append(_latency_cell(lat.get(r.model, {}).get(c), r.model, c, notes))
            line += [est[c].get(r.model, SEED_EMPTY) for c in est]
            parts = r.metric_value.split("/") if "/" in metric else [r.metric_value]
            line += [_seed(p) for p in parts] + [SEED_EMPTY] * (len(metric_cols) - len(parts))
            body.append(line)
        tables.append(Table(section, title, columns, body, notes))
    if others:
        cols = sorted({c for cells in others.values() for c in cells}, key=order.__getitem__)
        notes: list[str] = []
        body = [[m] + [_latency_cell(cells.get(c), m, c, notes) for c in cols] for m, cells in sorted(others.items())]
        tables.append(Table("other", "Other models (not in the seed tables)", ["Model"] + cols, body, notes))
    return tables


def _latency_cell(rec: BenchRecord | None, model: str, col: str, notes: list[str]) -> str:
    if rec is None:
        return NOT_MEASURED
    if not rec.ok:
        notes.append(f"{model} / {col}: failed: {rec.reason or 'no reason recorded'}")
        return "failed"
    m = rec.measurement or {}
    if m.get("median_ms") is not None:
        text = fmt_ms(m["median_ms"])
    elif m.get("mean_ms") is not None:
        # On-device tools (benchmark_bin, benchmark_model) report an average, not a median; say which.
        text = fmt_ms(m["mean_ms"]) + " (avg)"
    else:
        text = NOT_MEASURED
    if rec.noisy:
        notes.append(f"{model} / {col}: noisy (cv {m.get('cv', 0):.0%} after a re-measure)")
        text += " (noisy)"
    return text


def where_measured(records: list[BenchRecord | dict]) -> list[str]:
    """One line per device: what the measured columns ran on."""
    seen: dict[str, str] = {}
    for rec in map(BenchRecord.of, records):
        if not rec.ok:
            continue
        info = rec.device_info or {}
        if is_gpu(rec):
            label = gpu_column(rec).replace(" ms", "")
            if label not in seen:
                seen[label] = gpu_where(rec, label)
            continue
        label = device_label(rec).replace(" ms", "")
        if label in seen:
            continue
        if "platform" in info:  # a phone (or the simulator): what adb read off it
            clusters = " + ".join(f"{len(c['cpus'])}x {c['max_khz'] / 1e6:.2f} GHz" for c in info.get("clusters", []))
            tools = ", ".join(sorted(info.get("tools", {})))
            sim = " SIMULATED: the host ran the model; numbers are not from a real phone." if is_simulated(rec) else ""
            seen[label] = (f"{label}: {info.get('model', '?')} ({info.get('platform')}, {info.get('abi')}, SDK "
                           f"{info.get('sdk')}), cores {clusters}; tools {tools}.{sim}")
            continue
        rt = ", ".join(f"{k} {v}" for k, v in sorted((info.get("runtimes") or {}).items()) if v)
        rev = (info.get("git_revision") or "unknown")[:10] + ("+dirty" if info.get("git_dirty") else "")
        sim = " SIMULATED: numbers are not from the real phone." if is_simulated(rec) else ""
        seen[label] = (f"{label}: {info.get('cpu_model', '?')}, {info.get('cores', '?')} cores, governor "
                       f"{info.get('governor') or 'not readable'}, {info.get('os', '?')}; {rt}; edgekit "
                       f"{info.get('edgekit', '?')} @ {rev}.{sim}")
    return list(seen.values())


def gpu_where(rec: BenchRecord, label: str) -> str:
    """Where a GPU column came from: an imported trtexec log (its sha256) or edgekit's own TensorRT run."""
    prov = rec.provenance or {}
    clocks = prov.get("application_clocks_ghz") or {}
    cc = f", compute capability {prov['compute_capability']}" if prov.get("compute_capability") else ""
    clk = (f", application clocks {clocks.get('compute')} / {clocks.get('memory')} GHz"
           if clocks.get("compute") else "")
    metric = ((rec.measurement or {}).get("extra") or {}).get("latency_metric", "end-to-end latency")
    if prov.get("source") == "imported":
        how = (f"imported from a trtexec log (sha256 {str(prov.get('log_sha256'))[:12]}), TensorRT "
               f"{prov.get('tensorrt_version')}")
    else:
        drv = f", driver {prov.get('driver')}" if prov.get("driver") else ""
        how = f"measured by edgekit's TensorRT runner, TensorRT {prov.get('tensorrt_version')}{drv}"
    return f"{label}: {how}, GPU {prov.get('gpu')}{cc}{clk}; median of {metric}, batch 1."
