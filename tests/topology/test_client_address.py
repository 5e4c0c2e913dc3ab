"""Behind the proxy each client keeps its own address: the sign-in throttle (django-axes), the API's
per-address rate limit and the metrics' network check see the client, not nginx.

nginx overwrites X-Forwarded-For with the address of the connection it accepted, and the app believes
that header only from a trusted proxy (TRUSTED_PROXIES, editor/forwarded.py). Clients are told apart
by real source addresses: Linux routes all of 127.0.0.0/8 to the loopback, so a socket bound to
127.0.0.2 reaches nginx as another machine would.
"""

import http.client
import re
import urllib.parse
from http.cookies import SimpleCookie

from tests.topology.test_proxy import seed

ATTACKER = "127.0.0.2"
VICTIM = "127.0.0.3"
FAILURE_LIMIT = 3  # SIGN_IN_FAILURE_LIMIT in tests/topology/conftest.py


def sign_in(base_url: str, username: str, password: str, source: str, headers: dict | None = None) -> int:
    """The status of a sign-in through the login form, from a connection bound to `source`."""
    netloc = urllib.parse.urlsplit(base_url).netloc
    extra = dict(headers or {})

    def request(method, path, body=None, cookie=""):
        connection = http.client.HTTPConnection(netloc, timeout=30, source_address=(source, 0))
        try:
            connection.request(method, path, body=body, headers={
                **extra, **({"Cookie": cookie} if cookie else {}),
                **({"Content-Type": "application/x-www-form-urlencoded", "Referer": base_url + path} if body else {})})
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode()
        finally:
            connection.close()

    status, headers_, page = request("GET", "/accounts/login/")
    assert status == 200, (status, page[-3000:])
    cookies = SimpleCookie()
    for value in headers_.get_all("Set-Cookie") or ():
        cookies.load(value)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    status, _, _ = request("POST", "/accounts/login/", body.encode(),
                           cookie="; ".join(f"{k}={m.value}" for k, m in cookies.items()))
    return status


def test_wrong_passwords_from_one_client_do_not_lock_the_account_for_clients_elsewhere(topology):
    _, _, (victim, _) = seed(topology, "lockout-")
    url = topology.proxy.url
    # An attacker guesses the victim's password, and names a new address in X-Forwarded-For each time
    # (so as to get a fresh allowance): nginx overwrites the header, and the attempts count at its address.
    replies = [sign_in(url, victim, "wrong", ATTACKER, {"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": VICTIM})
               for i in range(FAILURE_LIMIT)]
    # The form again, then the lockout page once the limit is reached.
    assert replies == [200] * (FAILURE_LIMIT - 1) + [429], replies
    # The victim, from another address, signs in as usual: the attacker locked out only themselves.
    assert sign_in(url, victim, f"{victim}-password", VICTIM) == 302
    # The attacker stays locked out, even with the right password or the victim's address in the header.
    assert sign_in(url, victim, f"{victim}-password", ATTACKER, {"X-Forwarded-For": VICTIM}) == 429


def test_a_client_reaching_a_process_directly_cannot_choose_its_address(topology):
    _, _, (victim, _) = seed(topology, "direct-")
    process = topology.servers[0]
    # Not from a trusted proxy (TRUSTED_PROXIES is nginx's 127.0.0.1): X-Forwarded-For is not believed.
    replies = [sign_in(process.url, victim, "wrong", ATTACKER, {"X-Forwarded-For": f"198.51.100.{i}"})
               for i in range(FAILURE_LIMIT)]
    assert replies[-1] == 429, replies
    assert sign_in(process.url, victim, f"{victim}-password", VICTIM) == 302
