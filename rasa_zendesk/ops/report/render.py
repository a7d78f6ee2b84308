"""The report as a support lead reads it: text tables, CSV, or a chart image."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from rasa_zendesk.ops.report.summary import Group, Summary

DAY_COLUMNS = (
    "day",
    "handoffs",
    "agent_joined",
    "median_wait_s",
    "p90_wait_s",
    "median_duration_s",
    "messages_to_agent",
    "messages_from_agent",
    "csat_ratings",
    "csat_mean",
)


def duration(seconds: Optional[float]) -> str:
    """`42s`, `3m 05s`, `2h 10m`; `-` when there is none."""
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def _table(header: Sequence[str], rows: List[Sequence[str]]) -> List[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    align = ["<"] + [">"] * (len(header) - 1)
    return [
        "  ".join(f"{str(cell):{align[i]}{widths[i]}}" for i, cell in enumerate(row))
        for row in [header, *rows]
    ]


def rating(group: Group) -> str:
    """`4.5 (2)`: the mean CSAT rating and how many; `-` when none."""
    mean = group.mean_rating()
    return "-" if mean is None else f"{mean:.1f} ({len(group.ratings())})"


def _day_row(label: str, group: Group) -> List[str]:
    return [
        label,
        str(group.count),
        str(group.joined),
        duration(group.median_wait()),
        duration(group.p90_wait()),
        duration(group.median_duration()),
        str(group.to_agent()),
        str(group.from_agent()),
        rating(group),
    ]


def _ratings(title: str, groups: Dict[str, Group]) -> List[str]:
    rows = [[name, str(len(g.ratings())), rating(g)] for name, g in groups.items()]
    return ["", title, *_table(["", "rated", "csat"], rows)] if rows else []


def _shares(title: str, counts: dict, total: int) -> List[str]:
    rows = [[name, str(n), f"{100 * n / total:.0f}%"] for name, n in counts.most_common()]
    return ["", title, *_table(["", "handoffs", "share"], rows)]


def text(summary: Summary, period: str) -> str:
    total = summary.total()
    lines = [f"Handoffs {period}: {total.count}"]
    if not total.count:
        return lines[0]
    header = [
        "day",
        "handoffs",
        "agent joined",
        "median wait",
        "p90 wait",
        "median duration",
        "msgs to agent",
        "msgs from agent",
        "csat",
    ]
    rows = [_day_row(day.isoformat(), group) for day, group in summary.days().items()]
    lines += ["", *_table(header, [*rows, _day_row("all", total)])]
    lines += _shares("Why (what made the bot hand off)", total.triggers(), total.count)
    lines += _shares("How they ended", total.endings(), total.count)
    lines += _ratings("CSAT by end reason (mean rating, 1 to 5)", total.rated_by("ending"))
    lines += _ratings("CSAT by agent", total.rated_by("agent"))
    lines += [
        "",
        "Wait: from the request to the agent's first message (handoffs an agent joined). "
        "Duration: from the request to the end (ended handoffs). "
        "CSAT: the users' mean rating (how many rated).",
    ]
    return "\n".join(lines)


def csv_text(summary: Summary) -> str:
    """The per-day table and an `all` row, times in seconds, then one column per trigger
    (`trigger:...`) and per ending (`ended:...`)."""
    total = summary.total()
    triggers = sorted(total.triggers())
    endings = sorted(total.endings())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [*DAY_COLUMNS, *(f"trigger:{t}" for t in triggers), *(f"ended:{e}" for e in endings)]
    )
    days = [(day.isoformat(), group) for day, group in summary.days().items()]
    for label, group in [*days, ("all", total)]:
        seconds = [group.median_wait(), group.p90_wait(), group.median_duration()]
        writer.writerow(
            [
                label,
                group.count,
                group.joined,
                *("" if s is None else round(s, 1) for s in seconds),
                group.to_agent(),
                group.from_agent(),
                len(group.ratings()),
                "" if group.mean_rating() is None else round(group.mean_rating(), 2),
                *(group.triggers()[t] for t in triggers),
                *(group.endings()[e] for e in endings),
            ]
        )
    return out.getvalue()


def chart(summary: Summary, path: Path, period: str) -> None:
    """Handoffs per day (bars) and the median and p90 wait per day (lines), as an image."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file
    import matplotlib.pyplot as plt

    days = summary.days()
    labels = [day.isoformat() for day in days]
    figure, (counts, waits) = plt.subplots(
        2, 1, figsize=(max(6, len(labels) * 0.9), 6), sharex=True
    )
    counts.bar(labels, [group.count for group in days.values()], color="#3b7dd8")
    counts.set_ylabel("handoffs")
    counts.set_title(f"Handoffs {period}")
    for name, values in (
        ("median wait", [g.median_wait() for g in days.values()]),
        ("p90 wait", [g.p90_wait() for g in days.values()]),
    ):
        waits.plot(labels, [None if v is None else v / 60 for v in values], marker="o", label=name)
    waits.set_ylabel("minutes to an agent")
    waits.legend()
    waits.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
