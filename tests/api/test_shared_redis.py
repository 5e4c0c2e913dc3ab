"""Two deployments (two databases) on one Redis keep their own rate-limit budgets.

The API's limits count per user id in the cache; ids repeat across databases, so without a
key prefix per deployment one site's traffic would use up another's budget (found when the
test servers of parallel runs, each on a database of its own, answered each other's 429s).
"""

import urllib.request

from tests.support.server import own_server


def status(server, token) -> int:
    request = urllib.request.Request(f"{server.url}/api/documents/", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_deployments_sharing_a_redis_do_not_share_rate_limits():
    limit = {"API_RATE_LIMIT": "2/min"}
    with own_server("postgres", env=limit) as first, own_server("postgres", env=limit) as second:
        # The first user of each fresh database: the same user id on both sites.
        one = first.seed(users=["ana"])["tokens"]["ana"]
        two = second.seed(users=["ana"])["tokens"]["ana"]
        assert [status(first, one) for _ in range(3)] == [200, 200, 429]
        assert status(second, two) == 200, "the other site's budget is its own"
