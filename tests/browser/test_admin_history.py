"""Staff browse, compare and restore versions in the admin, in Chromium, while the owner edits (issue 4, test 6)."""


from playwright.async_api import expect
from pycrdt import XmlElement, XmlText

from collab.client import YClient
from tests.browser import pages
from tests.documents.admin_http import PASSWORD, AdminSession
from tests.support.clients import synced
from tests.support.crdt import paragraph


async def test_history_diff_and_restore_in_the_admin(browser, open_as, daphne_server, cast, unique, artifacts):
    staff = f"{unique}curator"
    token = daphne_server.django(
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Permission\n"
        "from documents.services import token_create\n"
        "User = get_user_model()\n"
        f"curator = User.objects.create_user({staff!r}, password={PASSWORD!r}, is_staff=True, first_name='Cora')\n"
        "curator.user_permissions.set(Permission.objects.filter(content_type__app_label='documents',\n"
        "    codename__in=['view_document', 'change_document', 'restore_version']))\n"
        f"result = token_create(user=User.objects.get(username={cast.owner.username!r}), name='script')[1]\n"
    )
    watcher = AdminSession(daphne_server.url)
    assert watcher.login(staff, PASSWORD)
    document = cast.document_id

    # The owner's script writes two versions' worth of edits.
    async with synced(YClient(daphne_server.document_ws(document), token=token)) as script:
        with script.doc.transaction():
            script.fragment.children.append(XmlElement("heading", {"level": 1.0}, [XmlText("Launch plan")]))
            script.fragment.children.append(paragraph("The quick brown fox jumps over the lazy dog."))
            script.fragment.children.append(paragraph("Budget: to be agreed."))
        await watcher.wait_for_versions(document, 1)
        text = script.fragment.children[1].children[0]
        with script.doc.transaction():
            del text[10:15]
            text.insert(10, "red")
            script.fragment.children.append(paragraph("Ship it on Friday."))
        await watcher.wait_for_versions(document, 2)
    # Staff sign in to the admin and find the document's versions from its change page.
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    admin = await context.new_page()
    admin.set_default_timeout(15_000)
    await admin.goto(f"{daphne_server.url}/admin/login/")
    await admin.get_by_label("Username").fill(staff)
    await admin.get_by_label("Password").fill(PASSWORD)
    await admin.get_by_role("button", name="Log in").click()
    await admin.goto(f"{daphne_server.url}/admin/documents/document/{document}/change/")
    await admin.get_by_role("link", name="Versions", exact=True).click()

    rows = admin.locator("#versions tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1).locator("td.authors")).to_have_text(cast.owner.username)

    # Compare the two (the form preselects the latest and the one before).
    await admin.get_by_role("button", name="Compare selected versions").click()
    diff = admin.locator("#diff")
    await expect(diff.locator("del")).to_have_text(["brown"])
    await expect(diff.locator("ins")).to_have_text(["red", "Ship it on Friday."])
    await expect(diff.locator('[data-kind="same"]')).to_have_count(2)
    await admin.screenshot(path=artifacts / "admin-version-diff.png", full_page=True)

    # The owner has the document open in the editor while staff restore.
    owner_page = await open_as(cast.owner)
    await pages.open_document(owner_page, daphne_server.url, document)
    await expect(pages.editor(owner_page)).to_contain_text("Ship it on Friday.")

    # Restore the first version: a confirmation first, then the live edit.
    await admin.get_by_role("link", name="All versions").click()
    await rows.nth(1).get_by_role("link", name="Restore…").click()
    await expect(admin.locator("#diff del")).to_have_text(["red", "Ship it on Friday."])
    await admin.screenshot(path=artifacts / "admin-version-restore-confirm.png", full_page=True)
    await admin.get_by_role("button", name="Yes, restore this version").click()

    await expect(admin.locator(".messagelist")).to_contain_text("is restored")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_have_attribute("data-kind", "restore")
    await expect(rows.first.locator("td.label")).to_contain_text("Restored from")

    # The owner's open editor shows the restored text without reloading.
    editor = pages.editor(owner_page)
    await expect(editor).to_contain_text("The quick brown fox jumps", timeout=2_000)
    await expect(editor).not_to_contain_text("Ship it on Friday.", timeout=2_000)
    await context.close()
