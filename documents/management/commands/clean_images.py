"""`python manage.py clean_images`: delete images that nothing refers to any more (documents/images.py).

An image is deleted when neither its document (as it is now) nor any version
the document keeps refers to it, once it is older than the grace period (24
hours by default: an upload reaches the document a moment after it is stored,
and an undo can bring an image back). Versions dropped by `thin_versions` no
longer keep their images: run that first. Files left in the storage without
a row (a document deleted while the storage was unreachable) are deleted too.
Deleting a document deletes its images' files at once; this command is the
safety net and the clean-up of images removed from documents.

Safe to run at any time, while the server runs. Schedule it after thin_versions:

    17 * * * *  cd /srv/editor && .venv/bin/python manage.py thin_versions --quiet \\
                && .venv/bin/python manage.py clean_images --quiet
"""

import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from documents.images import CLEAN_GRACE, clean_images


class Command(BaseCommand):
    help = (
        "Delete images that neither their document nor any version it keeps refers to (older than the grace "
        "period), and image files whose document or row is gone. Run it after thin_versions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what would be deleted; delete nothing")
        parser.add_argument(
            "--document", action="append", default=None, metavar="UUID",
            help="Only this document (repeat for several); default: every document",
        )
        parser.add_argument(
            "--grace-hours", type=float, default=CLEAN_GRACE.total_seconds() / 3600,
            help=f"Keep unreferenced images younger than this (default {CLEAN_GRACE.total_seconds() / 3600:g})",
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing unless something fails")

    def handle(self, *args, dry_run, document, grace_hours, quiet, **options):
        ids = None
        if document:
            try:
                ids = [uuid.UUID(value) for value in document]
            except ValueError as exc:
                raise CommandError(f"--document expects a document's UUID: {exc}") from None
        if grace_hours < 0:
            raise CommandError("--grace-hours cannot be negative")
        result = clean_images(grace=timedelta(hours=grace_hours), dry_run=dry_run, document_ids=ids)
        if not quiet:
            verb = "would delete" if dry_run else "deleted"
            self.stdout.write(
                f"{verb} {len(result.unreferenced)} unreferenced images in {result.documents} documents "
                f"and {len(result.orphan_files)} files without a document"
            )
            for image_id in result.unreferenced:
                self.stdout.write(f"  image {image_id}")
            for name in result.orphan_files:
                self.stdout.write(f"  file {name}")
