"""Results as JSON plus a Markdown table with ours/peer ratios."""

import json
from pathlib import Path


def _get(d: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def _fmt(v, key: str = "") -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        if key == "generator_bound":  # the bad answer is yes
            return "**yes**" if v else "no"
        if key == "cold_start":  # neither answer is bad: the peer has no database to load from
            return "yes" if v else "no"
        return "yes" if v else "**NO**"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _ratio(ours, peer) -> str:
    if not isinstance(ours, (int, float)) or not isinstance(peer, (int, float)) or isinstance(ours, bool):
        return ""
    if peer == 0:
        return ""
    return f"{ours / peer:.2f}×"


TYPING_ROWS = [
    ("latency p50 (ms)", "latency_ms.p50_ms"), ("latency p95 (ms)", "latency_ms.p95_ms"),
    ("latency p99 (ms)", "latency_ms.p99_ms"), ("latency max (ms)", "latency_ms.max_ms"),
    ("first edit of each editor: latency p50 (ms)", "first_edit_latency_ms.p50"),
    ("first edit of each editor: latency p99 (ms)", "first_edit_latency_ms.p99"),
    ("cold start (documents loaded during the run)", "cold_start"),
    ("first connect after the restart, apart (ms)", "first_connect_after_restart_ms"),
    ("last editor synced after (s)", "editors_synced_s"), ("editors not connected", "editors_not_connected"),
    ("delivered edits/s", "delivered_per_s"), ("deliveries", "deliveries"),
    ("frames received per delivery", "frames_per_delivery"), ("awareness frames received", "awareness_frames_received"),
    ("all delivered", "all_delivered"), ("converged", "converged"),
    ("server CPU (s)", "server_cpu_s"), ("server CPU per delivery (µs)", "server_cpu_us_per_delivery"),
    ("server RSS (MB)", "server_rss_mb"), ("client CPU (s)", "client_cpu_s"),
    ("client CPU (share of its cores)", "client_cpu_share"),
    ("client CPU while typing (share)", "client_cpu_share_typing"),
    ("server's group commits/s (transactions)", "writer.commits_per_s"),
    ("server's writes committed/s (log rows + snapshots)", "writer.writes_per_s"),
    ("server's writes per commit", "writer.writes_per_commit"),
    ("edits typed", "edits_sent"), ("edits planned", "edits_planned"),
    ("generator lag p99 (ms)", "generator_lag_ms.p99"),
    ("generator late or saturated (lag p99 > 100 ms or CPU > 90 %)", "generator_bound"),
]
PERSIST_ROWS = TYPING_ROWS + [
    ("DB commits/s", "database.commits_per_s"), ("DB rows written/s", "database.rows_written_per_s"),
    ("DB WAL bytes/s (cluster-wide)", "database.wal_bytes_per_s"),
]
IDLE_ROWS = [
    ("connections", "connections"), ("server RSS (MB)", "server_rss_mb"),
    ("RSS per connection (KB)", "rss_per_connection_kb"),
    ("RSS per connection, documents open (KB)", "rss_per_extra_connection_kb"),
    ("connects/s", "connections_per_s"), ("server CPU per connect (µs)", "server_cpu_us_per_connect"),
    ("server CPU while idle (%)", "server_idle_cpu_pct"), ("closed early", "closed_early"),
]
STORM_ROWS = [
    ("clients synced", "synced"), ("all synced", "all_synced"),
    ("storm: last client synced after (s)", "storm_s"),
    ("sync p50 (ms)", "sync_ms.p50"), ("sync p99 (ms)", "sync_ms.p99"),
    ("server CPU (s)", "server_cpu_s"), ("server CPU per connect (µs)", "server_cpu_us_per_connect"),
    ("cold start (documents loaded during the storm)", "cold_start"),
    ("first connect after the restart, apart (ms)", "first_connect_after_restart_ms"),
    ("server RSS (MB)", "server_rss_mb"), ("server CPU while idle after (%)", "server_idle_cpu_pct"),
    ("closed early", "closed_early"), ("client CPU (s)", "client_cpu_s"),
]
BIGDOC_ROWS = [
    ("fresh-client sync p50 (ms)", "sync_ms.p50"), ("fresh-client sync max (ms)", "sync_ms.max"),
    ("state received p50 (ms)", "first_byte_of_state_ms.p50"),
    ("joins at once: p50 (ms)", "burst_sync_ms.p50"), ("joins at once: max (ms)", "burst_sync_ms.max"),
    ("sync step 2 bytes", "step2_bytes"), ("server CPU per join (ms)", "server_cpu_ms_per_join"),
    ("server RSS (MB)", "server_rss_mb"), ("converged", "converged"),
]


SCALE_ROWS = [
    ("delivered edits/s", "delivered_per_s"), ("deliveries", "deliveries"),
    ("latency p50 (ms)", "latency_ms.p50_ms"), ("latency p99 (ms)", "latency_ms.p99_ms"),
    ("latency max (ms)", "latency_ms.max_ms"), ("last editor synced after (s)", "editors_synced_s"),
    ("all delivered", "all_delivered"), ("converged", "converged"),
    ("server CPU (s, Daphne processes together)", "server_cpu_s"),
    ("server CPU per delivery (µs)", "server_cpu_us_per_delivery"),
    ("server CPU share of its core, per process", "cluster.server_cpu_share_per_process"),
    ("proxy (nginx) CPU per delivery (µs)", "cluster.proxy_cpu_us_per_delivery"),
    ("sockets", "cluster.sockets"), ("forwarded sockets", "cluster.forwarded_sockets"),
    ("share of forwarded sockets", "cluster.forwarded_share"),
    ("documents open per process", "cluster.documents_per_process"),
    ("server's group commits/s (all processes)", "writer.commits_per_s"),
    ("DB commits/s", "database.commits_per_s"),
    ("server RSS (MB, together)", "server_rss_mb"),
    ("generator late or saturated (lag p99 > 100 ms or CPU > 90 %)", "generator_bound"),
]


def scale_table(ours: dict) -> list[str]:
    """scale-out: one column per process count, and 2 processes against 1."""
    one, two = ours.get("processes_1", {}), ours.get("processes_2", {})
    out = ["| metric | 1 process | 2 processes | 2 vs 1 |", "| --- | ---: | ---: | ---: |"]
    for label, key in SCALE_ROWS:
        a, b = _get(one, key), _get(two, key)
        if a is None and b is None:
            continue
        ratio = "" if isinstance(a, list) else _ratio(b, a)
        out.append(f"| {label} | {_fmt(a, key)} | {_fmt(b, key)} | {ratio} |")
    return out + [""]


def rows_for(scenario: str):
    if scenario == "idle":
        return IDLE_ROWS
    if scenario == "big-doc":
        return BIGDOC_ROWS
    if scenario == "reconnect-storm":
        return STORM_ROWS
    if scenario in ("persist", "many-docs-pg"):
        return PERSIST_ROWS
    return TYPING_ROWS


def markdown(results: dict) -> str:
    meta = results["meta"]
    out = [f"# Benchmark results: {meta['started']}", ""]
    out.append(f"Command: `{meta['command']}`  ")
    out.append(f"Machine: {meta['machine']}; load average at start {meta['loadavg_start']}, "
               f"at end {meta.get('loadavg_end')}.  ")
    out.append(f"Server cores {meta['options']['server_cpus']}, generator cores {meta['options']['generator_cpus']}, "
               f"{meta['options']['workers']} generator process(es), {meta['options']['duration']} s of typing.  ")
    out.append(f"Ours: {meta['versions'].get('ours')}  ")
    out.append(f"Peer: {meta['versions'].get('peer')}")
    out.append("")
    if meta.get("note"):
        out += [meta["note"], ""]
    for update in meta.get("updates", []):
        out += [f"Updated {update['started']} by `{update['command']}` (load average {update['loadavg_start']} "
                f"→ {update.get('loadavg_end')}).", ""]
    out.append("Ratio = ours / peer (lower is better, except delivered edits/s).")
    out.append("")
    for scenario, by_target in results["scenarios"].items():
        ours, peer = by_target.get("ours", {}), by_target.get("peer", {})
        out.append(f"## {scenario}")
        out.append("")
        describe = ours.get("describe") or peer.get("describe")
        if describe:
            out += [describe, ""]
        for name, r in (("ours", ours), ("peer", peer)):
            if r.get("error"):
                out += [f"**{name} failed:** `{r['error'][:300]}`", ""]
        if scenario == "scale-out":
            out += scale_table(ours)
            continue
        out.append("| metric | ours | peer | ratio |")
        out.append("| --- | ---: | ---: | ---: |")
        for label, key in rows_for(scenario):
            a, b = _get(ours, key), _get(peer, key)
            if a is None and b is None:
                continue
            out.append(f"| {label} | {_fmt(a, key)} | {_fmt(b, key)} | {_ratio(a, b)} |")
        out.append("")
    return "\n".join(out) + "\n"


def write(results: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "results.json"
    md = out_dir / "results.md"
    js.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    md.write_text(markdown(results))
    return js, md
