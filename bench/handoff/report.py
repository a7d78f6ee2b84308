"""The results as Markdown tables (printed, and written next to the JSON)."""

from __future__ import annotations

from typing import Any, Dict, List


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}×" if denominator else "n/a"


def ingest_table(cells: List[Dict[str, Any]]) -> List[str]:
    lines = [
        "| conversation | endpoint | agent msg/s | p50 ms | p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    names = {"webhook": "`POST /webhooks/zendesk/webhook`", "rasa": "Rasa `tracker/events`"}
    by_key = {(cell["endpoint"], cell["length"]): cell for cell in cells}
    lengths = sorted({cell["length"] for cell in cells})
    for length in lengths:
        ours, theirs = by_key[("webhook", length)], by_key[("rasa", length)]
        for cell in (ours, theirs):
            lines.append(
                f"| {length} events | {names[cell['endpoint']]} | {cell['rate']:.1f} | "
                f"{cell['p50']:.1f} | {cell['p99']:.1f} |"
            )
        lines.append(
            f"| {length} events | **ours ÷ Rasa** | **{_ratio(ours['rate'], theirs['rate'])}** | "
            f"{_ratio(ours['p50'], theirs['p50'])} | {_ratio(ours['p99'], theirs['p99'])} |"
        )
    if len(lengths) >= 2:
        short, long = lengths[0], lengths[-1]

        def cost(endpoint: str, length: int) -> float:
            """Milliseconds of the machine per message: the inverse of the throughput."""
            return 1000 / by_key[(endpoint, length)]["rate"]

        growth = {
            endpoint: (cost(endpoint, long) - cost(endpoint, short)) * 100 / (long - short)
            for endpoint in ("webhook", "rasa")
        }
        factor = {endpoint: cost(endpoint, long) / cost(endpoint, short) for endpoint in growth}
        lines.append("")
        lines.append(
            f"Cost per message (1 / throughput) from {short} to {long} events: ours "
            f"{cost('webhook', short):.1f} → {cost('webhook', long):.1f} ms "
            f"(+{growth['webhook']:.1f} ms per 100 events, {factor['webhook']:.1f}×), Rasa "
            f"{cost('rasa', short):.1f} → {cost('rasa', long):.1f} ms "
            f"(+{growth['rasa']:.1f} ms per 100 events, {factor['rasa']:.1f}×)."
        )
    return lines


def cpu_table(cells: List[Dict[str, Any]]) -> List[str]:
    """CPU milliseconds a message by part of the deployment (`bench.handoff.cpu`)."""
    parts = ["rasa server", "postgres", "redis", "load generator", "other"]
    names = {"webhook": "ours", "rasa": "Rasa's endpoint"}
    lines = [
        "| conversation | endpoint | " + " | ".join(parts) + " | all |",
        "|---|---|" + "---:|" * (len(parts) + 1),
    ]
    for cell in sorted(cells, key=lambda cell: (cell["length"], cell["endpoint"] != "webhook")):
        used = cell.get("cpu_ms", {})
        figures = [used.get(part, 0.0) for part in parts[:-1]]
        figures.append(sum(ms for part, ms in used.items() if part not in parts[:-1]))
        lines.append(
            f"| {cell['length']} events | {names[cell['endpoint']]} | "
            + " | ".join(f"{ms:.2f}" for ms in figures)
            + f" | {sum(figures):.2f} |"
        )
    return lines


def gc_freeze_table(without: List[Dict[str, Any]], frozen: List[Dict[str, Any]]) -> List[str]:
    """The same ingest without and with `gc_freeze` (two deployments, one after the other)."""
    lines = [
        "| conversation | endpoint | p50 ms without → with | p99 ms without → with "
        "| msg/s without → with |",
        "|---|---|---:|---:|---:|",
    ]
    with_freeze = {(cell["endpoint"], cell["length"]): cell for cell in frozen}
    for cell in sorted(without, key=lambda cell: (cell["length"], cell["endpoint"] != "webhook")):
        other = with_freeze.get((cell["endpoint"], cell["length"]))
        if other is None:
            continue
        lines.append(
            f"| {cell['length']} events | {cell['endpoint']} | {cell['p50']:.1f} → "
            f"{other['p50']:.1f} | {cell['p99']:.1f} → {other['p99']:.1f} | "
            f"{cell['rate']:.1f} → {other['rate']:.1f} |"
        )
    return lines


def turns_table(turns: Dict[str, Any]) -> List[str]:
    normal, relay = turns["normal"], turns["relay"]
    return [
        "| turn | n | p50 ms | p95 ms | mean ms |",
        "|---|---:|---:|---:|---:|",
        f"| normal bot turn (user message → bot reply on the socket) | {normal['count']} | "
        f"{normal['p50']:.1f} | {normal['p95']:.1f} | {normal['mean']:.1f} |",
        f"| relay turn (user message → message at the emulator) | {relay['count']} | "
        f"{relay['p50']:.1f} | {relay['p95']:.1f} | {relay['mean']:.1f} |",
        f"| **relay ÷ normal** | | **{_ratio(relay['p50'], normal['p50'])}** | "
        f"{_ratio(relay['p95'], normal['p95'])} | {_ratio(relay['mean'], normal['mean'])} |",
    ]


ESCALATION_MOMENTS = (
    ('user told "connecting"', "to_connecting"),
    ("passControl reaches SunCo", "to_pass_control"),
    ("passControl answered", "to_pass_control_done"),
    ("user told an agent is coming", "to_user_notice"),
)


def escalation_table(escalations: List[Dict[str, Any]]) -> List[str]:
    """One row per SunCo latency; then the calls each made, step by step."""
    lines = [
        "From the user's `human_handoff` message to each moment, p50 / p99 ms; the emulator adds "
        "the latency to every SunCo call (one deployment, the latencies one after another).",
        "",
        "| SunCo latency | escalations | "
        + " | ".join(label for label, _ in ESCALATION_MOMENTS)
        + " |",
        "|---:|---:|" + "---:|" * len(ESCALATION_MOMENTS),
    ]
    for escalation in escalations:
        cells = [
            f"{escalation[key]['p50']:.0f} / {escalation[key]['p99']:.0f}"
            for _, key in ESCALATION_MOMENTS
        ]
        lines.append(
            f"| {escalation['latency_ms']} ms | {escalation['to_pass_control']['count']} | "
            + " | ".join(cells)
            + " |"
        )
    by_steps: Dict[str, List[str]] = {}
    for escalation in escalations:
        steps = " → ".join(" ‖ ".join(step) for step in escalation["steps"])
        posts = sum(call.endswith("/messages") for step in escalation["steps"] for call in step)
        text = (
            f"{escalation['calls']} SunCo calls in {len(escalation['steps'])} sequential steps "
            f"(‖ = in parallel): {steps}. The message posts ({posts}) carry the summary and the "
            "transcript of the chat before the request (\"hello\", the bot's greeting, the "
            "request), at most 4,096 characters each."
        )
        by_steps.setdefault(text, []).append(f"{escalation['latency_ms']} ms")
    for text, latencies in by_steps.items():
        at = "every latency" if len(by_steps) == 1 else ", ".join(latencies)
        lines += ["", f"At {at}: {text}"]
    return lines


def memory_table(memory: Dict[str, Any]) -> List[str]:
    return [
        "| open handoffs | RSS before | RSS after | peak RSS | per handoff | time to open "
        "| idle CPU, none open | idle CPU, all open | restart: timers of the open ones fired |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {memory['handoffs']} | {memory['baseline_rss_mb']:.0f} MiB | "
        f"{memory['after_rss_mb']:.0f} MiB | {memory['peak_rss_mb']:.0f} MiB | "
        f"{memory['per_handoff_kb']:.0f} KiB | {memory['seconds']:.0f} s | "
        f"{memory['idle_cpu_percent_before']:.1f}% | {memory['idle_cpu_percent_after']:.1f}% | "
        f"{memory.get('restart_settled_seconds', 0.0):.0f} s |",
    ]


def markdown(results: Dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        "# rasa-zendesk benchmark",
        "",
        f"{env['date']}, {env['cpus']} CPUs, Python {env['python']}, Rasa {env['rasa']}; "
        f"one Rasa instance, PostgreSQL tracker store, Redis lock store "
        f"(`endpoints.scaleout.yml`), the example bot, the emulator as Zendesk.",
    ]
    if "ingest" in results:
        ingest = results["ingest"]
        lines += [
            "",
            f"## Webhook ingest ({ingest['conversations']} conversations at once, "
            f"{ingest.get('groups', 1)} such groups in turn, {ingest['messages']} agent messages "
            "each, the endpoints alternating in rounds)",
            "",
            *ingest_table(ingest["cells"]),
            "",
            "Where the machine's time went, CPU ms a message by part of the deployment:",
            "",
            *cpu_table(ingest["cells"]),
        ]
    if "ingest_gc_frozen" in results:
        lines += [
            "",
            "## Webhook ingest without and with `gc_freeze` (a second deployment, right after)",
            "",
            *gc_freeze_table(results["ingest"]["cells"], results["ingest_gc_frozen"]["cells"]),
        ]
    if "turns" in results:
        lines += ["", "## Relay turn against a normal bot turn", "", *turns_table(results["turns"])]
    if "escalation" in results:
        lines += ["", "## Escalation", "", *escalation_table(results["escalation"])]
    if "memory" in results:
        lines += ["", "## Memory of the Rasa process", "", *memory_table(results["memory"])]
    return "\n".join(lines) + "\n"
