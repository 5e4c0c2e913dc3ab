"""A document with a history, for the tests of versions (the API's, the cluster's restores).

SEED is a script for LiveServer.django: NAMES is replaced by {"owner": ..., "editor": ...,
"viewer": ...} (usernames that exist); it makes a document with two versions and returns
{"doc": id, "v1": first version's id, "v2": second's}.
"""

# A column list that includes the encoded state, as Django quotes it: a query that loads versions' states.
STATE_COLUMN = '"documents_snapshot"."state"'

SEED = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from pycrdt import Doc, XmlElement, XmlFragment, XmlText
from documents.models import Snapshot
from documents.services import document_create, membership_set
User = get_user_model()
names = NAMES
doc = document_create(owner=User.objects.get(username=names['owner']), title='History')
membership_set(document=doc, user=User.objects.get(username=names['editor']), role='editor')
membership_set(document=doc, user=User.objects.get(username=names['viewer']), role='viewer')
d = Doc()
f = d.get('default', type=XmlFragment)
f.children.append(XmlElement('paragraph', contents=[XmlText('Alpha')]))
f.children.append(XmlElement('paragraph', contents=[XmlText('Bravo')]))
now = timezone.now()
ids = []
def snap(minutes, author):
    s = Snapshot.objects.create(document=doc, created_at=now - timedelta(minutes=minutes), state=d.get_update(),
                                state_vector=d.get_state(), size=len(d.get_update()), authors=[author])
    ids.append(s.pk)
snap(10, names['owner'])
f.children[1].children[0].insert(5, ' changed twice')
f.children.append(XmlElement('paragraph', contents=[XmlText('Charlie')]))
snap(5, names['editor'])
result = {'doc': str(doc.pk), 'v1': ids[0], 'v2': ids[1]}
"""
