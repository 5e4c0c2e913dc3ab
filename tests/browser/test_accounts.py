"""Accounts as a newcomer meets them, in Chromium against a real server: signing up with a confirmed
address, resetting a forgotten password, accepting an invitation, using a share link the owner then
turns off, and being held back after too many wrong passwords. E-mails are read back from the
server's console backend (tests/support/mail.py)."""

from playwright.async_api import expect

from tests.browser import pages
from tests.support.mail import link_in, wait_for_mail

NEW_PASSWORD = "a long new passphrase"


async def new_page(browser, width: int = 1280):
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def no_sideways_scroll(page, within: str = "") -> None:
    """The page (or, with `within`, that part of it) is no wider than the viewport."""
    wide = await page.evaluate(
        "(within) => (within ? document.querySelector(within).getBoundingClientRect().right"
        " : document.documentElement.scrollWidth) - window.innerWidth", within)
    assert wide <= 0, f"{page.url}{' ' + within if within else ''} is {wide}px wider than the viewport"


async def test_sign_up_confirms_the_address_by_e_mail(browser, daphne_server, unique, artifacts):
    page = await new_page(browser, width=390)
    await page.goto(f"{daphne_server.url}/accounts/login/")
    await page.get_by_test_id("sign-up-link").click()
    address = f"{unique}@example.com"
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Username").fill(f"{unique}new")
    await page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("Password (again)").fill(NEW_PASSWORD)
    await no_sideways_scroll(page)
    await page.screenshot(path=artifacts / "sign-up-390.png")
    await page.get_by_test_id("sign-up").click()
    await expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    message = await wait_for_mail(daphne_server, address, "Confirm")
    await page.goto(link_in(message, daphne_server.url))
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()

    # Signed out, the new account signs in by its e-mail address.
    await page.context.clear_cookies()
    await pages.sign_in(page, daphne_server.url, address, NEW_PASSWORD)


async def test_a_forgotten_password_is_reset_by_e_mail(browser, daphne_server, unique):
    name, address = f"{unique}forgot", f"{unique}forgot@example.com"
    daphne_server.django(
        "from allauth.account.models import EmailAddress\nfrom django.contrib.auth import get_user_model\n"
        f"user = get_user_model().objects.create_user({name!r}, {address!r}, 'the old password')\n"
        f"EmailAddress.objects.create(user=user, email={address!r}, verified=True, primary=True)\n"
    )
    page = await new_page(browser, width=390)
    await page.goto(f"{daphne_server.url}/accounts/login/")
    await page.get_by_test_id("forgot-password").click()
    await page.get_by_label("Email").fill(address)
    await page.get_by_role("button", name="Reset My Password").click()
    await expect(page.get_by_role("heading", name="Password Reset")).to_be_visible()

    message = await wait_for_mail(daphne_server, address, "Password Reset")
    await page.goto(link_in(message, daphne_server.url))
    await page.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    await no_sideways_scroll(page)
    await page.get_by_role("button", name="Change Password").click()
    await expect(page.get_by_text("Your password is now changed.")).to_be_visible()
    await pages.sign_in(page, daphne_server.url, name, NEW_PASSWORD)


async def test_an_invitation_by_e_mail_brings_a_new_person_to_the_document(browser, open_as, daphne_server, cast):
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await alice.get_by_test_id("share-button").click()
    dialog = alice.get_by_role("dialog")
    address = f"{cast.owner.username}-guest@example.com"
    await dialog.get_by_test_id("share-username").fill(address)
    await dialog.get_by_test_id("share-role").select_option("editor")
    await dialog.get_by_test_id("share-add").click()
    await expect(dialog.locator(f'[data-testid="share-invitation"][data-email="{address}"]')).to_be_visible()

    message = await wait_for_mail(daphne_server, address, cast.title)
    guest = await new_page(browser, width=390)
    await guest.goto(link_in(message, daphne_server.url))
    await expect(guest.get_by_test_id("welcome")).to_contain_text("Alice Martin invited you")
    await guest.get_by_test_id("welcome-sign-up").click()
    await expect(guest.get_by_label("Email")).to_have_value(address)
    await guest.get_by_label("Username").fill(f"{cast.owner.username}guest")
    await guest.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await guest.get_by_label("Password (again)").fill(NEW_PASSWORD)
    await guest.get_by_test_id("sign-up").click()

    # The invitation proved the address: no second e-mail, straight into the document, as editor.
    await pages.expect_connected(guest)
    await expect(pages.editor(guest)).to_have_attribute("contenteditable", "true")
    await pages.editor(guest).click()
    await guest.keyboard.type("Hello from the guest")
    await pages.wait_for_chars(alice, ("Hg", "Hg"))
    await alice.reload()
    await alice.get_by_test_id("share-button").click()
    await expect(alice.locator(f'[data-testid="share-member"][data-username="{cast.owner.username}guest"]')).to_be_visible()
    await expect(alice.get_by_test_id("share-invitation")).to_have_count(0)


async def test_a_share_link_gives_its_role_until_turned_off(browser, open_as, daphne_server, cast, unique, artifacts):
    later = f"{unique}later"
    daphne_server.seed(users=[later])
    alice = await open_as(cast.owner)
    await pages.open_document(alice, daphne_server.url, cast.document_id)
    await alice.get_by_test_id("share-button").click()
    dialog = alice.get_by_role("dialog")
    await dialog.get_by_test_id("link-role").select_option("viewer")
    await dialog.get_by_test_id("link-create").click()
    link = dialog.get_by_test_id("share-link")
    await expect(link).to_have_attribute("data-role", "viewer")
    url = await link.get_by_test_id("link-url").input_value()
    assert url.startswith(f"{daphne_server.url}/links/")

    # Dan, signed in, follows it: he can read, not write.
    dan = await open_as(cast.stranger)
    await dan.goto(url)
    await pages.expect_connected(dan)
    await expect(pages.editor(dan)).to_have_attribute("contenteditable", "false")

    await link.get_by_test_id("link-revoke").click()
    await expect(dialog.get_by_test_id("share-link")).to_have_count(0)
    await expect(dialog.locator(f'[data-testid="share-member"][data-username="{cast.stranger.username}"]')).to_be_visible()

    # Someone else is too late: a clear page, and no access; Dan keeps his.
    page = await new_page(browser, width=390)
    await pages.sign_in(page, daphne_server.url, later, f"{later}-password")
    response = await page.goto(url)
    assert response.status == 410
    await expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    # Its content fits (the app bar above it at 390 px is the phone-layout work's, issue 19 item 6).
    await no_sideways_scroll(page, '[data-testid="error-page"]')
    await page.screenshot(path=artifacts / "share-link-revoked-390.png")
    assert (await page.goto(f"{daphne_server.url}/documents/{cast.document_id}/")).status == 403
    await dan.reload()
    await pages.expect_connected(dan)


async def test_too_many_wrong_passwords_hold_the_account_back_with_a_clear_message(browser, daphne_server, unique):
    name = f"{unique}target"
    daphne_server.seed(users=[name])
    page = await new_page(browser)
    await page.goto(f"{daphne_server.url}/accounts/login/")
    for attempt in range(10):
        await page.get_by_label("Username").fill(name)
        await page.get_by_label("Password").fill(f"guess {attempt}")
        await page.get_by_role("button", name="Sign in").click()
        if attempt < 9:
            await expect(page.get_by_test_id("login-error")).to_be_visible()
    await expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    await expect(page.get_by_text("paused for 15 minutes")).to_be_visible()
    # The right password does not get through either, for now.
    await page.goto(f"{daphne_server.url}/accounts/login/")
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password").fill(f"{name}-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()


async def test_a_password_is_changed_from_the_account_menu(open_as, daphne_server, cast, artifacts):
    page = await open_as(cast.viewer, viewport={"width": 390, "height": 800})
    await page.get_by_label("Account menu").click()
    await page.get_by_role("link", name="Change password").click()
    await page.get_by_label("Old password").fill(cast.viewer.password)
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    await no_sideways_scroll(page, "main")
    await page.screenshot(path=artifacts / "password-change-390.png")
    await page.get_by_test_id("change-password").click()
    await expect(page.get_by_test_id("password-changed")).to_be_visible()
    await page.context.clear_cookies()
    await pages.sign_in(page, daphne_server.url, cast.viewer.username, NEW_PASSWORD)
