"""Thinning automatic versions, so that a long-lived document keeps a useful, bounded history.

Kept, for each document:
- every version from the last 24 hours;
- from 24 hours to 30 days old, one automatic version per clock hour (the
  newest of the hour);
- older than 30 days, one automatic version per calendar day (the newest of
  the day, in TIME_ZONE);
- every named and every restore version, whatever its age;
- the newest version, whatever its kind and age: loading a document starts
  from it (the log rows it covers are gone).

Keeping the newest of each hour or day makes thinning idempotent and stable:
a version kept once is kept again as it ages, until a newer version of its
(now longer) period replaces it.

`plan` is the policy, pure; `thin_versions` applies it to the database
without loading a single encoded state. Run it from a scheduler:
`python manage.py thin_versions` (see that command for examples).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone

from django.utils import timezone

from .models import Snapshot

# Younger than this: every version is kept.
KEEP_ALL = timedelta(hours=24)
# Younger than this (and older than KEEP_ALL): one version per hour.
KEEP_HOURLY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    id: int
    created_at: datetime
    # Snapshot.Kind value: "auto", "named" or "restore".
    kind: str


@dataclass(frozen=True, slots=True)
class ThinResult:
    # Documents whose versions were examined.
    documents: int
    # Versions examined.
    examined: int
    # Ids of the versions deleted (or that would be, in a dry run).
    deleted: tuple[int, ...]


def plan(versions: Iterable[VersionInfo], *, now: datetime) -> set[int]:
    """Ids of the versions of ONE document that the policy drops."""
    ordered = sorted(versions, key=lambda v: (v.created_at, v.id), reverse=True)
    if not ordered:
        return set()
    # The store loads from the row with the highest id; it is the newest by time too, unless a clock stepped back.
    newest = {ordered[0].id, max(v.id for v in ordered)}
    drop: set[int] = set()
    seen_periods: set[tuple] = set()
    for version in ordered:
        if version.kind != Snapshot.Kind.AUTO:
            continue  # named and restore versions: always kept, and extra to the one per period
        age = now - version.created_at
        if age < KEEP_ALL:
            continue
        period = _period(version.created_at, hourly=age < KEEP_HOURLY)
        if period in seen_periods and version.id not in newest:
            drop.add(version.id)  # a newer version of the same hour or day is kept
        seen_periods.add(period)
    return drop


def _period(moment: datetime, *, hourly: bool) -> tuple:
    if hourly:
        utc = moment.astimezone(dt_timezone.utc)
        return ("hour", utc.replace(minute=0, second=0, microsecond=0))
    return ("day", timezone.localtime(moment).date())


def thin_versions(*, now: datetime | None = None, document_ids=None, dry_run: bool = False,
                  batch_size: int = 1000) -> ThinResult:
    """Apply the policy to every document (or to `document_ids`); returns what it dropped.

    Reads ids, times and kinds only, one document after another in a single
    ordered scan, and deletes in batches.
    """
    now = now or timezone.now()
    rows = Snapshot.objects.order_by("document_id", "-created_at", "-id").values_list(
        "document_id", "id", "created_at", "kind"
    )
    if document_ids is not None:
        rows = rows.filter(document_id__in=list(document_ids))
    documents = examined = 0
    doomed: list[int] = []
    for _document_id, group in itertools.groupby(rows.iterator(chunk_size=2000), key=lambda row: row[0]):
        versions = [VersionInfo(id_, created_at, kind) for _doc, id_, created_at, kind in group]
        documents += 1
        examined += len(versions)
        doomed.extend(sorted(plan(versions, now=now)))
    if not dry_run:
        for start in range(0, len(doomed), batch_size):
            # Re-checks the kind: a version named since the scan is not deleted.
            Snapshot.objects.filter(pk__in=doomed[start : start + batch_size], kind=Snapshot.Kind.AUTO).delete()
    return ThinResult(documents, examined, tuple(doomed))
