import json
from datetime import datetime, timezone

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from collab.cluster import PROCESS_PATTERN


class Command(BaseCommand):
    help = "List the live document actors of every server process in the cluster (needs REDIS_URL)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, json_output=False, **options):
        json_output = options.get("json", False)
        if not settings.REDIS_URL:
            raise CommandError(
                "REDIS_URL is not set: with one process, its actors are listed in the admin's document list."
            )
        client = redis.Redis.from_url(settings.REDIS_URL)
        rows = []
        for key in client.scan_iter(match=PROCESS_PATTERN):
            raw = client.get(key)
            if not raw:
                continue
            report = json.loads(raw)
            for actor in report["actors"]:
                rows.append({"process": report["name"], **actor})
        rows.sort(key=lambda r: (r["process"], r["document"]))
        if json_output:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(f"{'document':36}  {'process':24} {'conns':>5} {'unsaved':>8}  last commit  saving")
        for row in rows:
            last = row.get("last_commit")
            when = datetime.fromtimestamp(last, timezone.utc).strftime("%H:%M:%S") if last else "-"
            self.stdout.write(
                f"{row['document']:36}  {row['process'][:24]:24} {row['subscribers']:>5} {row['unsaved_bytes']:>8}"
                f"  {when:11}  {_saving(row)}"
            )
        self.stdout.write(f"{len(rows)} live actors")


def _saving(row: dict) -> str:
    if row.get("failing"):
        return "FAILING (edits kept in memory, retrying)"
    if row.get("snapshot_failing"):
        return "snapshots failing (edits in the log)"
    return "ok"
