"""Version retention: the policy (pure) and `manage.py thin_versions` on a live server's database."""

from datetime import datetime, timedelta, timezone

from documents.retention import VersionInfo, plan
from tests.documents.admin_http import make_document

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=timezone.utc)


def at(**delta) -> datetime:
    return NOW - timedelta(**delta)


def versions(*specs) -> list[VersionInfo]:
    """VersionInfo from (id, created_at, kind) tuples."""
    return [VersionInfo(id_, created, kind) for id_, created, kind in specs]


def test_keeps_everything_from_the_last_24_hours():
    recent = versions(*((n, at(hours=23, minutes=59 - n), "auto") for n in range(1, 30)))
    assert plan(recent, now=NOW) == set(), "every version younger than 24 hours is kept"


def test_keeps_the_newest_version_of_each_hour_up_to_30_days():
    hour = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
    some = versions(
        (1, hour + timedelta(minutes=5), "auto"),
        (2, hour + timedelta(minutes=25), "auto"),
        (3, hour + timedelta(minutes=50), "auto"),  # the newest of 09:00-10:00: kept
        (4, hour + timedelta(minutes=10), "named"),
        (5, hour + timedelta(minutes=20), "restore"),
        (6, hour + timedelta(hours=1, minutes=1), "auto"),  # alone in its hour: kept
        (7, at(hours=1), "auto"),  # the newest of all
    )
    assert plan(some, now=NOW) == {1, 2}, "older versions of the same hour go; named and restore stay"


def test_keeps_the_newest_version_of_each_day_after_30_days():
    day = datetime(2026, 1, 20, tzinfo=timezone.utc)
    some = versions(
        (1, day + timedelta(hours=1), "auto"),
        (2, day + timedelta(hours=6), "auto"),
        (3, day + timedelta(hours=20), "auto"),  # the newest of 20 January: kept
        (4, day + timedelta(hours=3), "restore"),
        (5, day - timedelta(hours=12), "auto"),  # the only one of 19 January: kept
        (6, day - timedelta(hours=13), "named"),
        (7, at(minutes=5), "auto"),
    )
    assert plan(some, now=NOW) == {1, 2}, "older versions of the same day go; named and restore stay"


def test_the_boundaries_are_24_hours_and_30_days():
    some = versions(
        (1, at(hours=24) + timedelta(seconds=1), "auto"),  # just younger than 24 h: kept
        (2, at(hours=24, seconds=1), "auto"),  # just older, same hour as 3 but older: dropped
        (3, at(hours=24, seconds=1) + timedelta(microseconds=1), "auto"),
        (4, at(days=30) + timedelta(minutes=1), "auto"),  # hourly band: newest of its hour, kept
        (5, at(days=30) + timedelta(seconds=30), "auto"),  # same hour, older: dropped
        (6, at(days=30, minutes=1), "auto"),  # daily band: newest of its day, kept
        (7, at(days=30, minutes=2), "auto"),  # same day: dropped
        (8, at(minutes=1), "auto"),  # the newest, and the highest id
    )
    assert plan(some, now=NOW) == {2, 5, 7}


def test_a_documents_newest_version_is_always_kept():
    old = versions((1, at(days=90, hours=2), "auto"), (2, at(days=90, hours=1), "auto"))
    assert plan(old, now=NOW) == {1}, "the newest stays even when it is old: loading starts from it"
    # Loading uses the highest id: kept too, even if a clock step made it look older.
    stepped = versions((9, at(days=40, hours=5), "auto"), (3, at(days=40, hours=1), "auto"))
    assert plan(stepped, now=NOW) == set()


def check_shape(history, survivors, now):
    """The policy's promise: all of the last 24 h, one per hour to 30 days, one per day before.

    Hours and days that straddle a boundary must keep at least one version.
    """
    recent, hourly = now - timedelta(hours=24), now - timedelta(days=30)

    def by(versions, unit):
        groups = {}
        for v in versions:
            if unit == "hour":
                start = v.created_at.replace(minute=0, second=0, microsecond=0)
                length = timedelta(hours=1)
            else:
                start = v.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
                length = timedelta(days=1)
            groups.setdefault((start, start + length), []).append(v.id)
        return groups

    assert all(v in survivors for v in history if v.created_at >= recent), "everything from the last 24 hours"
    rules = (
        # (unit, the period is under this rule at all, the period is wholly under it)
        ("hour", lambda s, e: e > hourly and e <= recent, lambda s, e: s >= hourly and e <= recent),
        ("day", lambda s, e: s < hourly, lambda s, e: e <= hourly),
    )
    for unit, touches, inside in rules:
        had, kept = by(history, unit), by(survivors, unit)
        for (start, end), ids in had.items():
            if touches(start, end):
                assert kept.get((start, end)), f"the {unit} from {start} lost all its versions"
            if inside(start, end):
                assert len(kept[(start, end)]) == 1, f"expected one version of the {unit} from {start}"


def test_thinning_again_and_later_keeps_one_version_per_period():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    history = versions(*((n, start + timedelta(minutes=7 * n), "auto") for n in range(1, 12000)))
    now = history[-1].created_at + timedelta(minutes=3)
    dropped = plan(history, now=now)
    kept = [v for v in history if v.id not in dropped]
    check_shape(history, kept, now)
    assert plan(kept, now=now) == set(), "running it again at once deletes nothing"

    later = now + timedelta(days=3, hours=5)
    dropped = plan(kept, now=later)
    check_shape(history, [v for v in kept if v.id not in dropped], later)


async def test_the_command_keeps_exactly_what_the_policy_says(daphne_server, cast):
    now = datetime.now(timezone.utc)
    hour = (now - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    day = (now - timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
    crafted = [
        {"at": (now - timedelta(hours=2)).isoformat()},  # kept: last 24 h
        {"at": (now - timedelta(hours=2, minutes=1)).isoformat()},  # kept: last 24 h
        {"at": (hour + timedelta(minutes=5)).isoformat()},  # dropped
        {"at": (hour + timedelta(minutes=10)).isoformat(), "kind": "named", "label": "Draft"},  # kept: named
        {"at": (hour + timedelta(minutes=50)).isoformat()},  # kept: newest of its hour
        {"at": (day + timedelta(hours=1)).isoformat()},  # dropped
        {"at": (day + timedelta(hours=3)).isoformat(), "kind": "restore"},  # kept: restore
        {"at": (day + timedelta(hours=20)).isoformat()},  # kept: newest of its day
    ]
    document, ids = make_document(daphne_server, cast, "Long history", crafted)
    dropped = {ids[2], ids[5]}

    # One process for both runs and the check: each start of Django costs seconds on a busy machine.
    dry, out, left = daphne_server.django(
        "import io\n"
        "from django.core.management import call_command\n"
        "from documents.models import Snapshot\n"
        "outputs = []\n"
        "for extra in (['--dry-run'], []):\n"
        "    buffer = io.StringIO()\n"
        f"    call_command('thin_versions', '--document', {document!r}, *extra, stdout=buffer)\n"
        "    outputs.append(buffer.getvalue())\n"
        f"result = outputs + [sorted(Snapshot.objects.filter(document_id={document!r}).values_list('id', flat=True))]\n"
    )
    assert "would delete 2 of 8 versions in 1 documents" in dry, dry
    assert "deleted 2 of 8 versions" in out, out
    assert set(left) == set(ids) - dropped, f"expected exactly {sorted(set(ids) - dropped)} kept, got {left}"
