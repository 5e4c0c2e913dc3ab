"""pycrdt's own Provider (pycrdt 0.14 ships it: pycrdt.Provider) syncing a document: the README's example."""

import time



def test_the_readme_python_example_writes_through_pycrdts_provider(python_example, daphne_server, unique):
    seed = daphne_server.seed(users=[unique], documents=[{"owner": unique}])
    document = seed["documents"][0]
    env = {"SERVER": daphne_server.ws_url, "DOCUMENT": document, "TOKEN": seed["tokens"][unique]}
    result = python_example("Written by the Python example", env=env)
    assert result.returncode == 0, result.stderr
    # The server has the update (it arrived before the close); it is written within COLLAB_FLUSH_MAX_WAIT.
    deadline = time.monotonic() + 10
    while "Written by the Python example" not in (stored := daphne_server.stored_content(document)):
        assert time.monotonic() < deadline, stored


def test_the_python_example_reports_a_refusal(python_example, daphne_server, unique):
    seed = daphne_server.seed(users=[unique], documents=[])
    env = {"SERVER": daphne_server.ws_url, "DOCUMENT": "00000000-0000-4000-8000-000000000000",
           "TOKEN": seed["tokens"][unique]}
    result = python_example("nowhere", env=env)
    assert result.returncode != 0
    assert "4404" in result.stderr and "no such document" in result.stderr
