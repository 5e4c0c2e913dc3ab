"""`python -m bench run --all`: every scenario against our server and the Node peer.

    python -m bench run --all                       # the full suite (about 15 minutes)
    python -m bench run --all --quick               # 5 s of typing, 1,000 idle connections
    python -m bench run typing-50 persist --targets ours
    python -m bench install-peer                    # npm-install the peer into bench/.peer/
    python -m bench report bench/results            # re-render results.md from results.json

See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
import traceback
from pathlib import Path

from . import report
from .runner import Options, Runner
from .servers import OurServer, PeerServer, ensure_peer_installed

TYPING = {"typing-2": 2, "typing-10": 10, "typing-50": 50, "typing-200": 200}


def describe(scenario: str, opts: Options) -> str:
    if scenario in TYPING:
        return (f"1 document × {TYPING[scenario]} editors × 5 single-character edits/s for {opts.duration:g} s; "
                "latency per (edit, receiving editor).")
    if scenario in ("many-docs", "many-docs-pg"):
        where = ("on PostgreSQL (a fresh database; DB figures as in persist; the peer column is the peer's "
                 "many-docs)" if scenario == "many-docs-pg" else "on SQLite, the default")
        return (f"{opts.many_docs_documents} documents × 3 editors × 1 edit/s for {opts.duration:g} s, our server "
                f"{where}, from a cold start: our server restarts after the documents are seeded, and the "
                "editors connect as the run starts, so every document is loaded during it (one client opens a spare "
                "document first: the process's warm-up is reported apart; server CPU "
                "includes the connects and loads; each editor types once synced). First-edit latency: each "
                "editor's first edit, just after its document was loaded. The peer keeps its documents in memory.")
    if scenario == "reconnect-storm":
        return (f"{opts.storm_clients:,} clients over {opts.storm_documents} seeded documents connect at once, as "
                "after a restart: our server restarts first, so every document is loaded during the storm (the "
                "peer has no database and keeps them in memory; a spare document takes the process's warm-up, reported "
                "apart). A client is synced once the server's sync step 2 "
                "holds the seeded content; the storm lasts until the last one is. Server CPU per connect = server "
                "CPU during the storm / clients (auth and document loads included for ours).")
    if scenario == "idle":
        return (f"{opts.idle_connections:,} idle connections (sync done) over {opts.idle_documents} documents. "
                "RSS per connection = (RSS with all connected − RSS at start) / connections; the second figure "
                "subtracts the RSS once every document is open (one connection each).")
    if scenario == "big-doc":
        return (f"One document holding a long editing history (see `source`), then {opts.bigdoc_joins} fresh "
                f"clients join one after another and {opts.bigdoc_joins} at once: time from TCP connect to the full "
                "state received and applied.")
    if scenario == "scale-out":
        return (f"many-docs at twice its load ({2 * opts.many_docs_documents} documents × 3 editors × 1 edit/s for "
                f"{opts.duration:g} s, from a cold start) on our server as 1 and as 2 Daphne processes behind nginx "
                "(deploy/nginx.conf: documents routed by consistent hash), on PostgreSQL + Redis, each process pinned "
                f"to a core of its own (of {opts.server_cpus}; nginx on the generator's). Server CPU is the Daphne "
                "processes' together; the proxy's is apart. Forwarded sockets: those whose document another process "
                "owns, from each process's /metrics once everything is delivered. The peer runs one process only.")
    if scenario == "persist":
        return ("typing-50 with our server on PostgreSQL (a fresh database); the peer column is the peer's "
                "typing-50 (it has no database). DB figures from pg_stat_database / pg_stat_user_tables of that "
                "database; WAL bytes are cluster-wide, so other activity on the machine adds to them.")
    return ""


# Scenarios of our server on PostgreSQL, and the scenario the peer (no database) runs in their place.
ON_POSTGRES = {"persist": "typing-50", "many-docs-pg": "many-docs"}


def run_one(runner: Runner, scenario: str, target: str, cache: dict) -> dict:
    if scenario in ON_POSTGRES and target == "peer":
        same = ON_POSTGRES[scenario]
        note = f"the peer's {same} (no database)"
        if (same, "peer") in cache:
            return dict(cache[(same, "peer")], note=note)
        return dict(run_one(runner, same, target, cache), note=note)
    database = "postgres" if scenario in ON_POSTGRES else "sqlite"
    if scenario in TYPING:
        return runner.typing(target, 1, TYPING[scenario], 5, label=scenario)
    if scenario in ("many-docs", "many-docs-pg"):
        return runner.typing(target, runner.options.many_docs_documents, 3, 1, database=database, label=scenario,
                             cold=True)
    if scenario == "reconnect-storm":
        return runner.storm(target)
    if scenario == "idle":
        return runner.idle(target)
    if scenario == "big-doc":
        return runner.bigdoc(target)
    if scenario == "persist":
        return runner.typing(target, 1, 50, 5, database=database, label=scenario)
    if scenario == "scale-out":
        if target != "ours":
            return {"target": target, "note": "the peer runs one process only: see many-docs"}
        return runner.scale_out()
    raise SystemExit(f"unknown scenario {scenario!r}")


SCENARIOS = [*TYPING, "many-docs", "many-docs-pg", "idle", "reconnect-storm", "big-doc", "persist", "scale-out"]


def _cpus(text: str) -> list[int]:
    return [int(c) for c in text.split(",") if c != ""]


def cmd_run(args) -> None:
    scenarios = SCENARIOS if args.all else args.scenarios
    if not scenarios:
        raise SystemExit("name scenarios or pass --all; known: " + ", ".join(SCENARIOS))
    cores = os.cpu_count() or 1
    server_cpus = _cpus(args.server_cpus) if args.server_cpus else [0]
    gen_cpus = _cpus(args.generator_cpus) if args.generator_cpus else ([c for c in range(cores) if c not in
                                                                       server_cpus] or [0])
    opts = Options(duration=args.duration or (5.0 if args.quick else 20.0), workers=args.workers,
                   server_cpus=server_cpus, generator_cpus=gen_cpus, seed=args.seed,
                   idle_connections=args.idle_connections or (1000 if args.quick else 5000),
                   many_docs_documents=args.many_docs_documents, storm_clients=args.storm_clients,
                   storm_documents=args.storm_documents,
                   bigdoc_joins=3 if args.quick else 10, trace_file=args.trace,
                   profile_dir=args.out if args.profile else None,
                   server_env=dict(kv.split("=", 1) for kv in args.server_env))
    targets = args.targets.split(",")
    if "peer" in targets:
        ensure_peer_installed()
    runner = Runner(opts)
    results = {
        "meta": {
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "machine": f"{platform.machine()}, {cores} cores, Linux {platform.release()}",
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "options": opts.__dict__,
            "versions": {"ours": OurServer.version(), "peer": PeerServer.version() if "peer" in targets else None},
            "note": args.note or "",
        },
        "scenarios": {},
    }
    out = Path(args.out)
    run_meta = results["meta"]  # this run's; the first run's meta stays on top when updating
    if args.update and (out / "results.json").exists():
        # Re-run some scenarios into an existing result set, keeping the others.
        previous = json.loads((out / "results.json").read_text())
        previous["meta"].setdefault("updates", []).append(results["meta"])
        results = {"meta": previous["meta"], "scenarios": previous["scenarios"]}
    cache: dict = {}
    deadline = time.monotonic() + args.max_minutes * 60
    for scenario in scenarios:
        for target in targets:
            if time.monotonic() > deadline:
                print(f"time budget of {args.max_minutes} min used up: skipping {scenario}/{target}", flush=True)
                continue
            print(f"== {scenario} / {target}", flush=True)
            t0 = time.monotonic()
            try:
                result = run_one(runner, scenario, target, cache)
            except Exception as exc:
                traceback.print_exc()
                result = {"target": target, "error": f"{type(exc).__name__}: {exc}"}
            result["describe"] = describe(scenario, opts)
            if target == "ours" and getattr(runner, "last_code", None):
                result["code"] = runner.last_code
            result["wall_s"] = round(time.monotonic() - t0, 1)
            cache[(scenario, target)] = result
            results["scenarios"].setdefault(scenario, {})[target] = result
            print(json.dumps({k: v for k, v in result.items() if k != "describe"}), flush=True)
            run_meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
            report.write(results, out)  # after each run: a partial result survives an interruption
    js, md = report.write(results, out)
    print(f"wrote {js} and {md}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios")
    run.add_argument("scenarios", nargs="*", help=", ".join(SCENARIOS))
    run.add_argument("--all", action="store_true", help="every scenario")
    run.add_argument("--quick", action="store_true", help="short runs (5 s typing, 1,000 idle connections)")
    run.add_argument("--targets", default="ours,peer", help="ours, peer or both (default)")
    run.add_argument("--duration", type=float, help="seconds of typing (default 20, --quick 5)")
    run.add_argument("--workers", type=int, default=1, help="generator processes (default 1)")
    run.add_argument("--server-cpus", help="cores for the server, e.g. 0 (default 0)")
    run.add_argument("--generator-cpus", help="cores for the generator (default: the others)")
    run.add_argument("--idle-connections", type=int, help="default 5000 (--quick 1000)")
    run.add_argument("--many-docs-documents", type=int, default=200, help="many-docs(-pg): documents (default 200)")
    run.add_argument("--storm-clients", type=int, default=2000, help="reconnect-storm: clients (default 2000)")
    run.add_argument("--storm-documents", type=int, default=200, help="reconnect-storm: documents (default 200)")
    run.add_argument("--trace", help="a real editing trace (editing-traces JSON, .gz ok) for big-doc")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    run.add_argument("--max-minutes", type=float, default=40.0, help="skip what would start after this")
    run.add_argument("--note", help="a line to put at the top of results.md")
    run.add_argument("--update", action="store_true",
                     help="replace only these scenarios in an existing results.json in --out")
    run.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                     help="environment for our server, e.g. COLLAB_PERSIST_THREADS=1 (repeatable)")
    run.add_argument("--profile", action="store_true",
                     help="record our server with py-spy during typing scenarios and the reconnect storm "
                          "(profile-<scenario>.md in --out)")
    sub.add_parser("install-peer", help="npm-install the peer into bench/.peer/")
    rep = sub.add_parser("report", help="re-render results.md from results.json")
    rep.add_argument("dir", nargs="?", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    if args.command == "run":
        cmd_run(args)
    elif args.command == "install-peer":
        print(ensure_peer_installed())
    else:
        d = Path(args.dir)
        report.write(json.loads((d / "results.json").read_text()), d)


if __name__ == "__main__":
    main()
