"""The clearance report a port can publish: CSV rows, the charts as PNG, or a PDF
(summary tables, then the charts), drawn off-screen with matplotlib's Agg and PDF
backends (no GUI). Period, port and time zone head every format; hours and days
are local (Statistics.tz).

Text from the border database (reasons, kiosk ids, ports) is data, never markup:
every label goes through `plain()` (a `$` would start mathtext: `$\\frac{$`
broke the renderer) and usetex is off; CSV cells that a spreadsheet would read
as a formula are quoted (`csv_cell`). Files are written by the caller through
kiosk.safe_files (atomic, regular files only).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kiosk.supervisor.stats import STAGES, GroupStats, Statistics

FORMATS = ("csv", "png", "pdf")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Figures as text in the PDF (TrueType, so pdftotext reads them back), no LaTeX.
RC: dict[str, Any] = {"text.usetex": False, "pdf.fonttype": 42, "svg.fonttype": "none"}


def plain(text: object) -> str:
    """A label that matplotlib draws literally: with every `$` escaped no text
    is mathtext (a backslash outside mathtext is drawn as it is)."""
    return str(text).replace("$", r"\$")


def csv_cell(value: str) -> str:
    """Quote a cell a spreadsheet would evaluate (=, +, -, @, tab, CR first):
    figures are written by us and never start so, except negative numbers."""
    if value.startswith(FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _fmt(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _pct(value: float | None) -> str:
    return f"{value * 100:.1f} %" if value is not None else "-"


def _secs(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def period_line(stats: Statistics) -> str:
    start, end = stats.local(stats.start), stats.local(stats.end)
    return (f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({stats.tz_name}, "
            f"UTC{start:%z}), port {stats.port}")


def csv_rows(stats: Statistics) -> list[list[str]]:
    """Header rows (period, port, time zone), then one row per (group, metric)."""
    rows = [
        ["group", "metric", "value"],
        ["report", "from", stats.local(stats.start).isoformat()],
        ["report", "to", stats.local(stats.end).isoformat()],
        ["report", "time_zone", stats.tz_name],
        ["report", "port", stats.port],
        ["report", "group_by", stats.group_by],
    ]
    named = [("all", stats.overall), *sorted(stats.groups.items())]
    for name, g in named:
        rows += [
            [name, "travellers", _fmt(g.travellers)],
            [name, "admitted", _fmt(g.admitted)],
            [name, "referred", _fmt(g.referred)],
            [name, "aborted", _fmt(g.aborted)],
            [name, "walk_aways", _fmt(g.walk_aways)],
            [name, "officer_admitted", _fmt(g.officer_admitted)],
            [name, "self_service_ratio", _fmt(g.self_service_ratio)],
        ]
        for code, n in sorted(g.aborted_by.items()):
            rows.append([name, f"aborted_{code}", _fmt(n)])
        for stage, figures in g.clearance().items():
            rows.append([name, f"clearance_{stage}_median_s", _fmt(figures["median_s"])])
            rows.append([name, f"clearance_{stage}_p90_s", _fmt(figures["p90_s"])])
        for reason, rate in g.referral_rate().items():
            rows.append([name, f"referral_rate_{reason}", _fmt(rate)])
        for reason, n in sorted(g.reasons.items()):
            rows.append([name, f"referrals_{reason}", _fmt(n)])
        for hour, n in g.per_hour.items():
            rows.append([name, f"throughput_{hour}", _fmt(n)])
        for day, ratio in g.self_service_per_day().items():
            rows.append([name, f"self_service_ratio_{day}", _fmt(ratio)])
    return [[csv_cell(str(c)) for c in row] for row in rows]


def csv_bytes(stats: Statistics) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(csv_rows(stats))
    return buffer.getvalue().encode("utf-8")


@contextmanager
def _no_markup() -> Iterator[None]:
    import logging

    import matplotlib

    # The PDF backend's font subsetting logs every table at info level.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        yield


def charts(stats: Statistics) -> Any:
    """A matplotlib Figure with the four charts: hourly throughput, clearance-time
    distribution per stage, self-service ratio per day, referral reasons."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.7, 8.3), layout="constrained")  # A4 landscape
    axes = fig.subplots(2, 2)
    g = stats.overall
    fig.suptitle(plain(f"Clearance {period_line(stats)}"))

    ax = axes[0][0]
    labels = [h[11:16] for h in g.per_hour]
    ax.bar(range(len(labels)), list(g.per_hour.values()), color="#2b6cb0")
    step = max(1, len(labels) // 24)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=90, fontsize=7)
    ax.set_ylabel("travellers")
    ax.set_title(plain(f"Travellers per hour ({stats.tz_name})"))

    ax = axes[0][1]
    names = [s for s in STAGES if g.stage_s.get(s)]
    series = [g.clearance_s, *(g.stage_s[s] for s in names)] if g.clearance_s else []
    if series:
        ax.boxplot(series, whis=(0, 90), showfliers=False)  # whisker to the 90th percentile
        ticks = ["whole", *(n.replace("_", " ") for n in names)]
        ax.set_xticks(range(1, len(ticks) + 1), ticks, rotation=20, fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_title("Clearance time per stage (box: quartiles, whisker: min to p90)")

    ax = axes[1][0]
    days = g.self_service_per_day()
    ax.bar(list(days), [(r or 0.0) * 100 for r in days.values()], color="#38a169")
    ax.set_ylim(0, 100)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.set_ylabel("% admitted without an officer")
    ax.set_title(plain(f"Self-service ratio per day ({stats.tz_name})"))

    ax = axes[1][1]
    counts = sorted(g.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    ax.barh([plain(r) for r, _ in counts], [n for _, n in counts], color="#dd6b20")
    ax.invert_yaxis()
    ax.set_xlabel("referred travellers")
    ax.set_title("Referral reasons")
    return fig


def _table(ax: Any, header: list[str], cells: list[list[str]], title: str) -> None:
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=10)
    if not cells:
        ax.text(0.0, 0.9, "none in this period", fontsize=9)
        return
    table = ax.table(cellText=[[plain(c) for c in row] for row in cells], colLabels=header,
                     loc="upper center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)


def _summary_page(stats: Statistics) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.7, 8.3))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    left, right = bottom.get_subplotspec().subgridspec(1, 2).subplots()
    bottom.remove()
    header = ["Group", "Travellers", "Admitted", "Referred", "Officer admits", "Aborted",
              "Walk-aways", "Self-service", "Median s", "P90 s"]

    def row(name: str, g: GroupStats) -> list[str]:
        c = g.clearance()["overall"]
        return [name, str(g.travellers), str(g.admitted), str(g.referred),
                str(g.officer_admitted), str(g.aborted), str(g.walk_aways),
                _pct(g.self_service_ratio), _secs(c["median_s"]), _secs(c["p90_s"])]

    cells = [row("All", stats.overall), *(row(k, g) for k, g in sorted(stats.groups.items()))]
    _table(top, header, cells, f"Per {stats.group_by}")
    o = stats.overall
    aborted = [[code, str(n), "yes" if code in ("cancelled", "timeout", "document_left") else ""]
               for code, n in sorted(o.aborted_by.items())]
    _table(left, ["Aborted: reason", "Count", "Walk-away"], aborted,
           "Aborted transactions (no decision)")
    daily = [[day, str(o.per_day[day][0]), str(o.per_day[day][1]), _pct(ratio)]
             for day, ratio in o.self_service_per_day().items()]
    _table(right, ["Day", "Travellers", "Self-service", "Ratio"], daily,
           plain(f"Per day ({stats.tz_name})"))
    fig.suptitle(plain(f"Published clearance figures, {period_line(stats)}"))
    return fig


def render(stats: Statistics, fmt: str, out: Path) -> None:
    """Write the report in `fmt` to `out` (a temporary path from safe_files)."""
    if fmt == "csv":
        out.write_bytes(csv_bytes(stats))
        return
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    with _no_markup():
        if fmt == "png":
            charts(stats).savefig(out, format="png", dpi=100)
            return
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(out, metadata={"Title": "egate clearance report"}) as pdf:
            pdf.savefig(_summary_page(stats))
            pdf.savefig(charts(stats))


def write_report(stats: Statistics, fmt: str, out: Path) -> Path:
    """Render atomically to `out`: a regular file, never a device, FIFO or link;
    nothing left behind when rendering fails."""
    from kiosk.safe_files import write_output

    return write_output(out, lambda tmp: render(stats, fmt, tmp))
