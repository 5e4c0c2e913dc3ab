"""One list of close codes: collab/codes.py, the browser's reconnect rules, the README, an unmodified provider."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from collab import codes

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def run_connection_js(node_code: str):
    """Evaluate frontend/js/connection.js (it imports nothing) and print JSON from `node_code`."""
    source = (ROOT / "frontend" / "js" / "connection.js").read_text()
    result = subprocess.run(["node", "--input-type=module", "-e", source + "\n" + node_code],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def browser_rules(node):  # node: skips or fails (CI) without Node.js
    every = sorted(codes.TRANSIENT | codes.FINAL | {4499, 4500, 1006})
    return run_connection_js(
        f"const every = {json.dumps(every)}\n"
        "console.log(JSON.stringify({refusals: Object.keys(REFUSALS).map(Number), transient: [...TRANSIENT],"
        " reconnects: Object.fromEntries(every.map(code => [code, shouldReconnect({ code })])),"
        " unknown: refusalMessage({ code: 4499, reason: 'the server says why' })}))"
    )


def test_the_browser_reconnects_exactly_after_the_transient_codes(browser_rules):
    assert set(browser_rules["transient"]) == codes.TRANSIENT
    # Every final code has words in the editor; so does 4003, on which the editor page (not the
    # provider's rule) stops and reloads with the new role.
    assert set(browser_rules["refusals"]) == codes.FINAL | {codes.ROLE_CHANGED}
    reconnects = {int(code) for code, yes in browser_rules["reconnects"].items() if yes}
    assert codes.TRANSIENT <= reconnects and not (codes.FINAL & reconnects)
    assert 4499 not in reconnects and {4500, 1006} <= reconnects  # y-websocket's default elsewhere


def test_the_browser_shows_the_servers_reason_for_a_code_it_has_no_words_for(browser_rules):
    assert "the server says why" in browser_rules["unknown"]


def test_transient_codes_are_outside_the_range_providers_treat_as_final():
    assert all(not 4400 <= code < 4500 for code in codes.TRANSIENT)
    assert all(4400 <= code < 4500 for code in codes.FINAL)


def test_the_readme_table_lists_every_code_with_what_the_provider_does():
    table = dict(re.findall(r"^\| (\d{4}) \| (reconnects|stops) \|", README, re.MULTILINE))
    assert {int(code) for code, does in table.items() if does == "reconnects"} == codes.TRANSIENT
    assert {int(code) for code, does in table.items() if does == "stops"} == codes.FINAL


@pytest.mark.parametrize("example, fence", [("example.mjs", "js"), ("example.py", "python")])
def test_the_readme_examples_are_the_tested_files(example, fence):
    text = (Path(__file__).parent / example).read_text()
    assert f"```{fence}\n{text}```" in README, f"README's copy of tests/clients/{example} differs: paste it again"
