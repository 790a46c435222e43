"""Markdown and CSV renderings of the report tables."""
from __future__ import annotations

import csv
import io

from edge_kit.report.tables import Table


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def table_markdown(table: Table, heading: str | None = "##") -> str:
    """heading=None: the table alone (README's host table, edge_kit.report.readme_table)."""
    out = [f"{heading} {table.title}", ""] if heading is not None else []
    out += ["| " + " | ".join(_md_escape(c) for c in table.columns) + " |",
            "|" + "|".join(" :--- " for _ in table.columns) + "|"]
    out += ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in table.rows]
    if table.notes:
        out.append("")
        out += [f"- {n}" for n in table.notes]
    return "\n".join(out) + "\n"


def report_markdown(tables: list[Table], where: list[str]) -> str:
    head = ["# edgekit benchmark report", "",
            "Seed figures (PaddleX model-zoo introduction) are labelled \"(seed)\"; every other number was "
            "measured by edgekit: latency is the median in ms at batch 1, storage is the artifact's size on "
            "disk in MB (10^6 bytes; Paddle = .pdmodel + .pdiparams). \"not measured\" means edgekit has no "
            "result for that cell yet.", "", "Measured on:"]
    if any("(imported)" in c for t in tables for c in t.columns):
        head[2] += (" Exception: a \"GPU ms (imported)\" column was measured by NVIDIA's trtexec on the GPU it "
                    "names and imported from its log (sha256 below); edgekit did not run it.")
    head += [f"- {w}" for w in where] or ["- nothing measured yet"]
    return "\n".join(head) + "\n\n" + "\n".join(table_markdown(t) for t in tables)


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(table.columns)
    w.writerows(table.rows)
    return buf.getvalue()
