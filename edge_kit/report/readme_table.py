"""README's host benchmark table, generated from bench_results/results.jsonl for one machine.

The README's table under "## Benchmarks" is a view of the report: the same records (the standing record
per cell of ONE machine, edge_kit.report.load_records), the same tables and cell texts ("(noisy)",
"failed", "not measured"; edge_kit.report.tables.build_tables), restricted to the host columns README
shows, plus one sentence saying where and when they were measured. `scripts/readme_host_table.py` prints
it; nobody types the numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

from edge_kit.bench.record import BenchRecord

# README column -> (backend, precision, threads) of the host cell it shows
COLUMNS = (
    ("LiteRT 1T", "tflite", "fp32", 1),
    ("LiteRT 2T", "tflite", "fp32", 2),
    ("LiteRT fp16 1T", "tflite", "fp16", 1),
    ("onnxruntime 1T", "onnxruntime", "fp32", 1),
    ("onnxruntime 2T", "onnxruntime", "fp32", 2),
    ("Paddle-Lite x86 1T", "paddlelite", "fp32", 1),
    ("Paddle Inference 1T", "paddle", "fp32", 1),
    ("Paddle Inference 2T", "paddle", "fp32", 2),
)
SEED_SD855 = "SD855 ms (seed)"
# the table's rows (the seed's order); the zoo has more models, README's table shows these
MODELS = ("MobileNetV3_small_ssld", "ShuffleNetV2", "MobileNetV3_large_ssld", "MobileNetV2", "ResNet50_vd_ssld",
          "ResNet101_vd_ssld", "Xception65", "YOLOv3-MobileNetV3_large", "YOLOv3-MobileNetV1",
          "DeepLabv3p-MobileNetV2_x1.0", "DeepLabv3-MobileNetV3_large_x1_0_ssld", "HRNet_W18_Small_v1", "FastSCNN")
RUNTIMES = ("ai-edge-litert", "onnxruntime", "paddlelite", "paddlepaddle")


@dataclass
class HostTable:
    machine: str
    records: list[BenchRecord]
    markdown: str        # the table
    provenance: str      # the sentence above it


def this_machine() -> str:
    from edge_kit.bench.host_device import describe_host

    return describe_host()["machine_id"]


def bench_command(models=MODELS) -> str:
    """Every cell of the table in one run: fp32 and fp16 (fp16 exists on the host as TFLite only) at 1 and
    2 threads (host Paddle-Lite has 1 thread only); 9 cells per model, the LiteRT fp16 2T one not shown."""
    backends = ",".join(sorted({b for _, b, _, _ in COLUMNS}, key=[c[1] for c in COLUMNS].index))
    return (f"bash scripts/edgekit bench {' '.join(models)} --backend {backends} --precision fp32,fp16 "
            f"--threads 1,2")


def resolve_machine(results_dir, machine: str | None) -> str:
    """None: this machine; else a full machine id or a unique prefix of one in the results file."""
    from edge_kit.errors import EdgekitError

    if not machine:
        return this_machine()
    hits = [m for m in machines(results_dir) if m.startswith(machine)]
    if len(hits) != 1:
        raise EdgekitError(f"machine {machine!r} matches {len(hits)} machines in {results_dir}/results.jsonl")
    return hits[0]


def host_records(results_dir, machine: str) -> list[BenchRecord]:
    """The standing host record of each cell measured on `machine` (a noisy re-measure does not replace a
    clean figure: ResultStore.latest)."""
    from edge_kit.report import load_records

    return [r for r in load_records(results_dir, machine) if r.device == "host"]


def machines(results_dir) -> dict[str, tuple[str, int]]:
    """machine id -> (label, number of host records) in the results file, for the error message."""
    from edge_kit.bench.machine import machine_id, machine_label
    from edge_kit.bench.store import ResultStore

    out: dict[str, tuple[str, int]] = {}
    for r in ResultStore(results_dir).records(warn=False):
        if r.device == "host":
            mid = machine_id(r.device_info)
            out[mid] = (machine_label(r.device_info), out.get(mid, ("", 0))[1] + 1)
    return out


def build(results_dir="bench_results", machine: str | None = None) -> HostTable:
    from edge_kit.errors import EdgekitError
    from edge_kit.report.tables import Table, build_tables, latency_column
    from edge_kit.report.writers import table_markdown

    machine = machine or this_machine()
    records = host_records(results_dir, machine)
    if not records:
        known = "; ".join(f"{m} ({label}, {n} records)" for m, (label, n) in machines(results_dir).items())
        raise EdgekitError(f"no host records of machine {machine} in {results_dir}/results.jsonl"
                           f"{'; machines there: ' + known if known else ''}")
    header = {label: latency_column(BenchRecord(device="host", backend=b, precision=p, threads=t))
              for label, b, p, t in COLUMNS}
    measured = {r.model for r in records if r.model in MODELS}
    rows = []
    for t in build_tables(records):
        for row in t.rows:
            if row[0] not in measured:
                continue
            cells = [row[t.columns.index(header[label])] if header[label] in t.columns else "not measured"
                     for label, *_ in COLUMNS]
            seed = row[t.columns.index(SEED_SD855)] if SEED_SD855 in t.columns else "-"
            rows.append([row[0], *cells, seed])
    table = Table("readme", "", ["model", *(c[0] for c in COLUMNS), "SD855 ms (seed)"], rows)
    return HostTable(machine, records, table_markdown(table, heading=None), provenance(records, machine))


def _span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.2f}" if lo == hi else f"{lo:.2f}-{hi:.2f}"


def provenance(records: list[BenchRecord], machine: str) -> str:
    """Where, with what and when: CPU, cores, OS, runtime versions, edgekit revision, dates, load."""
    info = records[-1].device_info or {}
    rt = info.get("runtimes") or {}
    versions = ", ".join(f"{k} {rt[k]}" for k in RUNTIMES if rt.get(k))
    onednn = any(((r.measurement or {}).get("extra") or {}).get("runner", {}).get("mkldnn")
                 for r in records if r.backend == "paddle")
    revs = sorted({(r.device_info or {}).get("git_revision") or "unknown" for r in records})
    dirty = any((r.device_info or {}).get("git_dirty") for r in records)
    stamps = sorted(str(r.timestamp) for r in records if r.timestamp)
    when = (stamps[0] if stamps[0][:16] == stamps[-1][:16] else f"{stamps[0]} to {stamps[-1]}") if stamps else "?"
    loads = [(r.flags or {}).get("host_load_avg") for r in records]
    loads = [x for x in loads if x]
    load = (f"1-minute load average {_span([x[0] for x in loads])} when the cells were recorded "
            f"({len(loads)} of {len(records)} records carry it)" if loads else "load average not recorded")
    noisy = sum(1 for r in records if r.noisy)
    failed = sum(1 for r in records if not r.ok)
    return (f"Measured by edgekit on {info.get('cpu_model', '?')}, {info.get('cores', '?')} cores, "
            f"{info.get('os', '?')} {info.get('machine', '')} (machine {machine[:6]}); {versions}"
            f"{', Paddle Inference with oneDNN' if onednn else ', Paddle Inference without oneDNN'}; "
            f"edgekit {info.get('edgekit', '?')} at {', '.join(x[:10] for x in revs)}{' (dirty tree)' if dirty else ''}; "
            f"{when}; {load}. {len(records)} host cells, {noisy} noisy, {failed} failed. Median ms at batch 1, "
            f"fp32 unless the column says fp16 (TFLite with fp16 weights), T = threads.")
