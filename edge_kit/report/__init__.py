"""Render bench_results/ into the seed's tables (Markdown, CSV) and a PNG."""
from __future__ import annotations

from pathlib import Path

from edge_kit.bench.record import BenchRecord
from edge_kit.errors import EdgekitError, OutputDirError
from edge_kit.manifest import atomic_write_text

FORMATS = ("md", "csv", "png")


def load_records(results_dir, machine: str | None = None) -> list[BenchRecord]:
    """The record standing for each cell (of `machine` only, if given); malformed lines are reported on
    stderr and skipped. When one device name (e.g. "host") was measured on several machines, each
    record gets `machine_label` (in its `extra`: the report's, not the file's) so their columns are told
    apart (edge_kit.bench.machine)."""
    from edge_kit.bench.machine import machine_id, machine_label
    from edge_kit.bench.store import ResultStore

    records = list(ResultStore(results_dir).latest(machine).values())
    machines: dict[str, set] = {}
    for r in records:
        machines.setdefault(str(r.device), set()).add(machine_id(r.device_info))
    for r in records:
        if len(machines[str(r.device)]) > 1:
            r.extra["machine_label"] = machine_label(r.device_info)
    return records


def render_report(results_dir="bench_results", formats=FORMATS, out_dir=None) -> list[Path]:
    """Write report.md, report_<section>.csv and report.png into out_dir (default: results_dir)."""
    from edge_kit.report.tables import build_tables, where_measured
    from edge_kit.report.writers import report_markdown, table_csv

    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise EdgekitError(f"unknown report format(s) {', '.join(bad) or '(none)'}; choose from {', '.join(FORMATS)}")
    if not (Path(results_dir) / "results.jsonl").exists():
        raise EdgekitError(f"no results in {results_dir}/results.jsonl; run `edgekit bench` first")
    out = Path(out_dir or results_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputDirError(f"cannot create report directory {out}: {err.strerror or err}") from err
    records = load_records(results_dir)
    tables = build_tables(records)
    from edge_kit.report.accuracy import add_accuracy_columns, load_accuracy

    add_accuracy_columns(tables, load_accuracy(results_dir))
    written = []
    try:
        if "md" in formats:
            atomic_write_text(out / "report.md", report_markdown(tables, where_measured(records)))
            written.append(out / "report.md")
        if "csv" in formats:
            for t in tables:
                atomic_write_text(out / f"report_{t.section}.csv", table_csv(t))
                written.append(out / f"report_{t.section}.csv")
        if "png" in formats:
            from edge_kit.report.plot import write_png

            png = write_png(records, out / "report.png")
            if png:
                written.append(png)
    except OSError as err:
        raise OutputDirError(f"cannot write the report into {out}: {err.strerror or err}") from err
    return written


def device_table_markdown(results_dir, device=None, models: list[str] | None = None,
                          machine: str | None = None) -> str:
    """The tables of the sections `models` belong to, with only `device`'s measured columns (bench's output),
    measured on `machine` if given; `device` is one name or a collection of names (a multi-phone run)."""
    from edge_kit.report.tables import build_tables
    from edge_kit.report.writers import table_markdown
    from edge_kit.seed import seed_rows

    wanted_devices = None if device is None else {device} if isinstance(device, str) else set(device)
    records = [r for r in load_records(results_dir, machine)
               if wanted_devices is None or r.device in wanted_devices]
    wanted = {r.task for r in seed_rows() if models is None or r.model in models}
    return "\n".join(table_markdown(t) for t in build_tables(records) if t.section in wanted or t.section == "other")
