"""Search: a SearchText row per document, and the database's own full-text index over it.

PostgreSQL: a GIN index on SearchText.vector. SQLite: an FTS5 table over
SearchText's title and body (external content: the text is stored once),
kept in sync by triggers, so that every write of a SearchText row (the
persistence path, a rename, a cascade delete) reaches the index. Existing
documents get their row, with the text of their stored state.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

FTS = "documents_search_fts"
TABLE = "documents_searchtext"

SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(title, body, content='{TABLE}', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {TABLE}_ai AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    f"CREATE TRIGGER {TABLE}_ad AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    f"CREATE TRIGGER {TABLE}_au AFTER UPDATE OF title, body ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    f"INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_BACKWARD = [f"DROP TRIGGER {TABLE}_au", f"DROP TRIGGER {TABLE}_ad", f"DROP TRIGGER {TABLE}_ai",
                   f"DROP TABLE {FTS}"]
POSTGRES_FORWARD = [f"CREATE INDEX {TABLE}_vector ON {TABLE} USING gin (vector)"]
POSTGRES_BACKWARD = [f"DROP INDEX {TABLE}_vector"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)
    return run


def backfill(apps, schema_editor):
    """A SearchText row for every document: its title, and the text of its stored state."""
    from documents import search
    from documents.content import preview_text
    from pycrdt import merge_updates

    Document = apps.get_model("documents", "Document")
    Snapshot = apps.get_model("documents", "Snapshot")
    UpdateLog = apps.get_model("documents", "UpdateLog")
    SearchText = apps.get_model("documents", "SearchText")
    for document in Document.objects.only("pk", "title").iterator():
        snap = Snapshot.objects.filter(document=document).order_by("-id").values("state", "last_seq").first()
        last_seq = snap["last_seq"] if snap else 0
        rows = list(UpdateLog.objects.filter(document=document, seq__gt=last_seq).order_by("seq")
                    .values_list("seq", "data"))
        updates = ([bytes(snap["state"])] if snap else []) + [bytes(data) for _seq, data in rows]
        try:
            text = preview_text(merge_updates(*updates)) if updates else ""
        except Exception:
            text = ""  # content this cannot read: found by title until its next edit
        at = search.position(rows[-1][0], snapshot=False) if rows else search.position(last_seq, snapshot=bool(snap))
        SearchText.objects.create(document=document, title=search.clean(document.title),
                                  body=search.clean(text), position=at)
    if schema_editor.connection.vendor == "postgresql":
        SearchText.objects.update(vector=(
            django.contrib.postgres.search.SearchVector("title", weight="A", config=search.CONFIG)
            + django.contrib.postgres.search.SearchVector(
                models.functions.Substr("body", 1, search.VECTOR_TEXT), weight="B", config=search.CONFIG)))


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0005_media'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchText',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(blank=True, default='', max_length=200)),
                ('body', models.TextField(blank=True, default='')),
                ('vector', django.contrib.postgres.search.SearchVectorField(editable=False, null=True)),
                ('position', models.BigIntegerField(default=0)),
                ('document', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name='search_text', to='documents.document')),
            ],
        ),
        migrations.RunPython(_run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
                             _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
