"""The Content-Security-Policy holds on every page and breaks none of them (issue 11, finding 8).

Chromium reports each violation as a `securitypolicyviolation` event (collected
by a script Playwright injects, which the policy does not govern) and on the
console. The pages are used as a person uses them: two people editing with
carets and a link, the share dialog, the list, tokens, the admin, /api/docs.
"""

from playwright.async_api import expect

from tests.browser import pages

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${where})`);
});
"""


async def watched(page):
    """`page`, recording CSP violations from its next navigation on; returns the list the console adds to."""
    console = []
    page.on("console", lambda message: "Content Security Policy" in message.text and console.append(message.text))
    await page.add_init_script(COLLECT_VIOLATIONS)
    return console


async def assert_no_violations(page, console, where: str) -> None:
    events = await page.evaluate("() => window.__cspViolations || []")
    assert not events and not console, f"{where}: the policy blocked something: {events} {console}"


async def test_the_editor_works_under_the_policy_with_no_violation(browser, open_as, daphne_server, cast):
    alice = await open_as(cast.owner, "/")
    alice_console = await watched(alice)
    bob = await open_as(cast.editor, "/")
    bob_console = await watched(bob)
    response = await alice.goto(f"{daphne_server.url}/documents/{cast.document_id}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    await bob.goto(f"{daphne_server.url}/documents/{cast.document_id}/")
    await pages.expect_connected(alice)
    await pages.expect_connected(bob)

    # Typing, a mark from the toolbar, a link through its dialog; the other person's caret in colour.
    await pages.editor(alice).click()
    await alice.keyboard.type("Policy check ")
    await alice.get_by_role("button", name="Bold").click()
    await alice.keyboard.type("bold")
    await pages.editor(bob).click()
    await bob.keyboard.type("Bob was here ")
    await expect(pages.caret_label(alice, cast.editor.name)).to_be_visible()
    await pages.wait_for_chars(bob, ("P", "P"))
    await expect(pages.save_state(alice)).to_have_attribute("data-state", "saved")
    await alice.get_by_test_id("share-button").click()
    await expect(alice.locator("#share-dialog")).to_be_visible()

    await assert_no_violations(alice, alice_console, "the editor (owner)")
    await assert_no_violations(bob, bob_console, "the editor (editor)")

    for path, ready in (("/", "document-row"), ("/account/tokens/", None)):
        await bob.goto(daphne_server.url + path)
        if ready:
            await expect(bob.get_by_test_id(ready).first).to_be_visible()
        await assert_no_violations(bob, bob_console, path)


async def test_the_admin_and_the_api_docs_work_under_the_policy(browser, open_as, daphne_server, cast):
    daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.filter(username={cast.owner.username!r}).update(is_staff=True, is_superuser=True)"
    )
    page = await open_as(cast.owner, "/")
    console = await watched(page)

    await page.goto(f"{daphne_server.url}/api/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Collaborative editor API")
    await expect(page.locator(".opblock").first).to_be_visible()
    await assert_no_violations(page, console, "/api/docs")

    for path in ("/admin/", "/admin/documents/document/", f"/admin/documents/document/{cast.document_id}/change/"):
        await page.goto(daphne_server.url + path)
        await expect(page.locator("#content")).to_be_visible()
        await assert_no_violations(page, console, path)
    await page.get_by_role("link", name="History").first.click()
    await assert_no_violations(page, console, "the document's history in the admin")
