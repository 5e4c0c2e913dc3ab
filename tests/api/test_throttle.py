"""Rate limiting of the API: a clear 429 with Retry-After (in process, with the limit set low)."""

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.test import AsyncClient, Client, override_settings

from tests.support.tokens import make_token


@pytest.mark.django_db(transaction=True)
@override_settings(API_RATE_LIMIT="3/min")
async def test_the_fourth_request_in_a_minute_is_refused_with_429():
    cache.clear()
    alice, bob = await make_token("alice"), await make_token("bob")
    client = AsyncClient()
    statuses = [
        (await client.get("/api/documents/", headers={"Authorization": f"Bearer {alice}"})).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429], statuses

    refused = await client.get("/api/documents/", headers={"Authorization": f"Bearer {alice}"})
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many requests: the limit is 3/min per user; retry in ")
    assert 1 <= int(refused["Retry-After"]) <= 60, refused["Retry-After"]

    other = await client.get("/api/documents/", headers={"Authorization": f"Bearer {bob}"})
    assert other.status_code == 200, "the limit is per user"


@pytest.mark.django_db(transaction=True)
@override_settings(API_UNAUTHENTICATED_RATE_LIMIT="5/min")
async def test_requests_that_fail_to_authenticate_are_throttled_per_address():
    cache.clear()
    valid = await make_token("carol")
    client = AsyncClient()
    tries = [{}, {"Authorization": "Bearer cdt_wrong"}, {"Authorization": "Basic dTpw"}] * 3
    statuses = [(await client.get("/api/documents/", headers=headers)).status_code for headers in tries]
    assert statuses == [401] * 5 + [429] * 4, statuses

    refused = await client.get("/api/documents/", headers={"Authorization": "Bearer cdt_another_guess"})
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many requests that are not signed in from this address")
    assert 1 <= int(refused["Retry-After"]) <= 60, refused["Retry-After"]

    elsewhere = Client(REMOTE_ADDR="192.0.2.7")  # (AsyncClient cannot set the address)
    assert (await sync_to_async(elsewhere.get)("/api/documents/")).status_code == 401, "the limit is per address"
    signed_in = await client.get("/api/documents/", headers={"Authorization": f"Bearer {valid}"})
    assert signed_in.status_code == 200, "a valid token from the same address is not held up"
