"""The clearance report: CSV rows, or charts as PNG or a publishable PDF
(matplotlib, drawn off-screen with the Agg and PDF backends, no GUI)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from kiosk.supervisor.stats import STAGES, GroupStats, Statistics

FORMATS = ("csv", "png", "pdf")


def csv_rows(stats: Statistics) -> list[list[str]]:
    """One row per (group, metric): group, metric, value."""
    rows = [["group", "metric", "value"]]

    def fmt(value: float | int | None) -> str:
        if value is None:
            return ""
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    named = [("all", stats.overall), *sorted(stats.groups.items())]
    for name, g in named:
        rows += [
            [name, "travellers", fmt(g.travellers)],
            [name, "admitted", fmt(g.admitted)],
            [name, "referred", fmt(g.referred)],
            [name, "aborted", fmt(g.aborted)],
            [name, "officer_admitted", fmt(g.officer_admitted)],
            [name, "self_service_ratio", fmt(g.self_service_ratio)],
        ]
        for stage, figures in g.clearance().items():
            rows.append([name, f"clearance_{stage}_median_s", fmt(figures["median_s"])])
            rows.append([name, f"clearance_{stage}_p90_s", fmt(figures["p90_s"])])
        for reason, rate in g.referral_rate().items():
            rows.append([name, f"referral_rate_{reason}", fmt(rate)])
        for hour, n in g.per_hour.items():
            rows.append([name, f"throughput_{hour}", fmt(n)])
    return rows


def write_csv(stats: Statistics, out: Path) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(csv_rows(stats))
    out.write_text(buffer.getvalue(), encoding="utf-8")


def charts(stats: Statistics) -> Any:
    """A matplotlib Figure with the four charts (throughput, clearance, self-service,
    referral reasons)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.7, 8.3), layout="constrained")  # A4 landscape
    axes = fig.subplots(2, 2)
    g = stats.overall
    title = f"Clearance {stats.start:%Y-%m-%d %H:%M} to {stats.end:%Y-%m-%d %H:%M} UTC"
    fig.suptitle(title)

    ax = axes[0][0]
    labels = [h[11:16] for h in g.per_hour]
    ax.bar(range(len(labels)), list(g.per_hour.values()), color="#2b6cb0")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_title("Travellers per hour (UTC)")

    ax = axes[0][1]
    clearance = g.clearance()
    names = [s for s in ("overall", *STAGES) if s in clearance]
    med = [clearance[s]["median_s"] or 0.0 for s in names]
    top = [clearance[s]["p90_s"] or 0.0 for s in names]
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], med, 0.4, label="median")
    ax.bar([x + 0.2 for x in xs], top, 0.4, label="90th percentile")
    ax.set_xticks(list(xs), [n.replace("_", " ") for n in names], rotation=20, fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_title("Clearance time per stage")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    groups = sorted(stats.groups.items())
    ratios = [(r or 0.0) * 100 for r in (gs.self_service_ratio for _, gs in groups)]
    ax.barh([k for k, _ in groups], ratios, color="#38a169")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of travellers admitted without an officer")
    ax.set_title(f"Self-service ratio per {stats.group_by}")

    ax = axes[1][1]
    rates = g.referral_rate()
    ax.barh(list(rates), [v * 100 for v in rates.values()], color="#dd6b20")
    ax.set_xlabel("% of travellers")
    ax.set_title("Referral rate by reason")
    return fig


def _summary_page(stats: Statistics) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.7, 8.3))
    ax = fig.add_subplot()
    ax.axis("off")
    header = ["Group", "Travellers", "Admitted", "Referred", "Self-service", "Median s", "P90 s"]

    def row(name: str, g: GroupStats) -> list[str]:
        c = g.clearance()["overall"]
        ratio = g.self_service_ratio
        return [
            name,
            str(g.travellers),
            str(g.admitted),
            str(g.referred),
            f"{ratio * 100:.1f} %" if ratio is not None else "-",
            f"{c['median_s']:.2f}" if c["median_s"] is not None else "-",
            f"{c['p90_s']:.2f}" if c["p90_s"] is not None else "-",
        ]

    cells = [row("All", stats.overall), *(row(k, g) for k, g in sorted(stats.groups.items()))]
    table = ax.table(cellText=cells, colLabels=header, loc="upper center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    fig.suptitle(
        f"Published clearance figures, {stats.start:%Y-%m-%d} to {stats.end:%Y-%m-%d} (UTC), "
        f"per {stats.group_by}"
    )
    return fig


def write_report(stats: Statistics, fmt: str, out: Path) -> None:
    if fmt == "csv":
        write_csv(stats, out)
    elif fmt == "png":
        charts(stats).savefig(out, format="png", dpi=100)
    elif fmt == "pdf":
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(out, metadata={"Title": "egate clearance report"}) as pdf:
            pdf.savefig(_summary_page(stats))
            pdf.savefig(charts(stats))
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
