"""documents.selectors.roles: the role rule, written once and asked in batches by the API, the pages and the engine."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from documents.access import DocumentAccess
from documents.models import Document, Role
from documents.selectors import NoSuchDocument, document_role, documents_visible_to, role_of, roles, roles_for
from documents.services import document_create, membership_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    User = get_user_model()
    ann, bob, cy, dee = (User.objects.create_user(name) for name in ("ann", "bob", "cy", "dee"))
    first, second = document_create(owner=ann, title="first"), document_create(owner=bob, title="second")
    membership_set(document=first, user=bob, role=Role.EDITOR)
    membership_set(document=first, user=cy, role=Role.VIEWER)
    membership_set(document=second, user=ann, role=Role.VIEWER)
    return {"ann": ann, "bob": bob, "cy": cy, "dee": dee, "first": first, "second": second}


def test_owner_then_membership_for_many_users_and_documents_in_two_queries(world, django_assert_num_queries):
    w = world
    gone = uuid.uuid4()
    with django_assert_num_queries(2):
        found = roles([w["first"].pk, w["second"].pk, gone], {u.pk for u in (w["ann"], w["bob"], w["cy"], w["dee"])})
    assert found == {
        w["first"].pk: {w["ann"].pk: Role.OWNER, w["bob"].pk: Role.EDITOR, w["cy"].pk: Role.VIEWER},
        w["second"].pk: {w["bob"].pk: Role.OWNER, w["ann"].pk: Role.VIEWER},
    }, "a deleted document is absent; someone without a role (dee) is absent from a document"


def test_loaded_documents_cost_one_query_and_owned_ones_none(world, django_assert_num_queries):
    w = world
    with django_assert_num_queries(1):
        assert roles_for(w["bob"], [w["first"], w["second"]]) == {w["first"].pk: Role.EDITOR, w["second"].pk: Role.OWNER}
    with django_assert_num_queries(0):
        assert roles_for(w["ann"], [w["first"]]) == {w["first"].pk: Role.OWNER}


def test_one_document(world):
    w = world
    assert document_role(w["cy"], w["first"].pk) == Role.VIEWER
    assert document_role(w["dee"], str(w["first"].pk)) is None
    with pytest.raises(NoSuchDocument):
        document_role(w["ann"], uuid.uuid4())
    with pytest.raises(NoSuchDocument):
        document_role(w["ann"], "not-a-uuid")


def test_the_engine_policy_answers_with_the_ids_it_was_given(world):
    w = world
    given = str(w["first"].pk).upper()
    policy = DocumentAccess()
    assert policy.roles({w["cy"].pk}, {given, str(uuid.uuid4())}) == {given: {w["cy"].pk: Role.VIEWER}}
    assert [policy.can_write(role) for role in Role] == [role in {Role.OWNER, Role.EDITOR} for role in Role]


def test_the_queryset_form_of_the_rule_agrees_with_roles_for_everyone(world):
    """role_of (querysets: the document list) and roles() (batches: the engine, the pages) are one rule."""
    w = world
    people = [w[name] for name in ("ann", "bob", "cy", "dee")]
    expected = roles([w["first"].pk, w["second"].pk], {u.pk for u in people})
    for user in people:
        annotated = dict(Document.objects.annotate(role=role_of(user.pk)).values_list("pk", "role"))
        wanted = {pk: found[user.pk] for pk, found in expected.items() if user.pk in found}
        assert {pk: role for pk, role in annotated.items() if role} == wanted, user.username
        assert {d.pk for d in documents_visible_to(user)} == set(wanted), user.username
