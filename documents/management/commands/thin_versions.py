"""`python manage.py thin_versions`: apply the version retention policy (documents/retention.py).

Keeps every version of the last 24 hours, one automatic version per hour up
to 30 days, one per day after that, and every named and restore version.
Safe to run at any time and as often as wanted (it is idempotent), while the
server runs: it only deletes automatic versions older than 24 hours, never a
document's newest version.

Schedule it hourly, for example:

    # crontab of the user running the app
    17 * * * *  cd /srv/editor && .venv/bin/python manage.py thin_versions --quiet

    # or with docker compose
    docker compose run --rm app python manage.py thin_versions --quiet

    # or a systemd timer: OnCalendar=hourly, ExecStart=<the same command>
"""

import uuid

from django.core.management.base import BaseCommand, CommandError

from documents.retention import KEEP_ALL, KEEP_HOURLY, thin_versions


class Command(BaseCommand):
    help = (
        f"Thin automatic versions: keep all from the last {KEEP_ALL.total_seconds() / 3600:g} hours, "
        f"one per hour up to {KEEP_HOURLY.days} days, one per day after that; named and restore "
        "versions are always kept. Run it hourly (cron, a systemd timer, or a scheduled container)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would be deleted; delete nothing")
        parser.add_argument(
            "--document", action="append", default=None, metavar="UUID",
            help="Only this document (repeat for several); default: every document",
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing unless something fails")

    def handle(self, *args, dry_run, document, quiet, **options):
        ids = None
        if document:
            try:
                ids = [uuid.UUID(value) for value in document]
            except ValueError as exc:
                raise CommandError(f"--document expects a document's UUID: {exc}") from None
        result = thin_versions(document_ids=ids, dry_run=dry_run)
        if not quiet:
            verb = "would delete" if dry_run else "deleted"
            self.stdout.write(
                f"{verb} {len(result.deleted)} of {result.examined} versions "
                f"in {result.documents} documents"
            )
