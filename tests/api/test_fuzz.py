"""Requests generated from the API's own OpenAPI schema (hypothesis): none may make the server fail.

Each example picks an operation of /api/openapi.json and fills its path,
query and body with values that fit the schema, values that nearly fit
(bounds, types) and plain garbage, with valid, foreign, bad or no
credentials. Every answer must be a deliberate one: no 5xx, JSON where the
API says JSON, and a status the schema documents.
"""

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.client import ApiClient

HEADER_TEXT = st.text(string.printable.strip() + " ", max_size=40)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
OMIT = object()


@pytest.fixture
def target(daphne_server, unique):
    names = [f"{unique}fuzzowner", f"{unique}fuzzviewer"]
    seed = daphne_server.seed(
        users=names, documents=[{"owner": names[0], "title": "Fuzzed", "roles": {names[1]: "viewer"}}]
    )
    schema = ApiClient(daphne_server.url).get("/api/openapi.json").json()
    return daphne_server, seed["documents"][0], [seed["tokens"][n] for n in names], schema


def parameter_values(parameter: dict, document: str):
    schema = parameter.get("schema", {})
    if parameter["in"] == "path":
        return st.sampled_from([document] * 6 + ["not-a-uuid", ""]) | st.uuids().map(str)
    fitting = st.text(max_size=30)
    if schema.get("type") == "integer" or "integer" in json.dumps(schema):
        low, high = schema.get("minimum", -(2**70)), schema.get("maximum", 2**70)
        fitting = st.integers(low, high) | st.integers() | st.sampled_from([0, -1, 2**63, 2**80])
    values = fitting | st.text(max_size=30) | st.just("")
    if parameter["name"] == "format":
        values = st.sampled_from(["txt", "md", "html", "json"] * 3 + [OMIT]).flatmap(
            lambda name: values if name is OMIT else st.just(name)
        )
    return values if parameter.get("required") else (st.just(OMIT) | values)


def bodies():
    titles = st.text(max_size=210) | st.integers() | st.none() | st.just("x" * 201) | st.just("a\x00b")
    return st.one_of(
        st.fixed_dictionaries({"title": titles}),
        st.just({}),
        ANY_JSON,
        st.binary(max_size=40),
        st.just(b'{"title": "\\ud800"}'),
    )


def test_no_generated_request_makes_the_server_fail(target):
    server, document, tokens, schema = target
    operations = [
        (path, method.upper(), operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) == 7, [(p, m) for p, m, _ in operations]
    api = ApiClient(server.url)
    # Mostly the viewer (the owner may delete the document, after which most answers are 404s).
    random_bearer = HEADER_TEXT.map(lambda t: f"Bearer {t}")
    authorizations = st.sampled_from(
        [f"Bearer {tokens[1]}"] * 8 + [f"Bearer {tokens[0]}", None, "Bearer cdt_junk", "Basic Zm9vOmJhcg==", "?"]
    ).flatmap(lambda value: random_bearer if value == "?" else st.just(value))

    @settings(
        max_examples=200, deadline=None, database=None, phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def request_anything(data):
        path, method, operation = data.draw(st.sampled_from(operations), label="operation")
        query = {}
        for parameter in operation.get("parameters", []):
            value = data.draw(parameter_values(parameter, document), label=parameter["name"])
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", quote(str(value), safe=""))
            elif value is not OMIT:
                query[parameter["name"]] = value
        headers = {}
        authorization = data.draw(authorizations, label="authorization")
        if authorization is not None:
            headers["Authorization"] = authorization
        if data.draw(st.booleans(), label="conditional"):
            headers["If-None-Match"] = data.draw(HEADER_TEXT | st.just("*"), label="if-none-match")
        body = data.draw(bodies(), label="body") if "requestBody" in operation else None

        reply = api.request(method, path, body=body, headers=headers, **query)

        assert reply.status < 500, f"{method} {path} {query} {body!r} -> {reply.status}\n{reply.text[:2000]}"
        # Besides what the operation documents: 422 (ninja's validation), 400 (a body that is
        # not JSON), 404 (a path that is no UUID matches no route).
        expected = set(operation["responses"]) | {"400", "404", "422"}
        assert str(reply.status) in expected, f"{method} {path}: undocumented {reply.status}: {reply.text[:300]}"
        if reply.headers.get("Content-Type", "").startswith("application/json") and reply.body:
            reply.json()

    request_anything()
