"""What the tests do on a page, named after what a person does: sign in, open, type, read."""

from playwright.async_api import Page, expect

# The document as a reader sees it: the editor's DOM without other people's
# carets (whose labels are text inside the editor) and ProseMirror's widgets.
_CLEAN_JS = """
function cleanDocument() {
  const copy = document.querySelector('.ProseMirror').cloneNode(true);
  copy.querySelectorAll('.collaboration-carets__caret, .ProseMirror-separator, .ProseMirror-trailingBreak')
      .forEach((node) => node.remove());
  copy.querySelectorAll('.collaboration-carets__selection, .ProseMirror-yjs-selection').forEach((node) => node.replaceWith(...node.childNodes));
  // A selected node (an image just pasted) is this page's selection, not content.
  copy.querySelectorAll('.ProseMirror-selectednode').forEach((node) => {
    node.classList.remove('ProseMirror-selectednode');
    if (!node.classList.length) node.removeAttribute('class');
  });
  copy.normalize();
  return copy;
}
"""
CONTENT_JS = f"() => {{ {_CLEAN_JS}; return cleanDocument().innerHTML; }}"
TEXT_JS = f"() => {{ {_CLEAN_JS}; return cleanDocument().textContent; }}"
# True once the characters of each alphabet, in document order, are exactly the expected ones.
HAS_CHARS_JS = f"""(expectations) => {{
  {_CLEAN_JS};
  const text = cleanDocument().textContent;
  return expectations.every(([alphabet, expected]) => [...text].filter((c) => alphabet.includes(c)).join('') === expected);
}}"""
SAME_CONTENT_JS = f"(expected) => {{ {_CLEAN_JS}; return cleanDocument().innerHTML === expected; }}"
# Records every text the save indicator shows, with the time, in window.saveStates.
_RECORD_SAVE_STATES_JS = """
() => {
  const indicator = document.querySelector('[data-testid="save-state"]');
  window.saveStates = [[Date.now(), indicator.textContent.trim()]];
  new MutationObserver(() => {
    const text = indicator.textContent.trim();
    if (window.saveStates.at(-1)[1] !== text) window.saveStates.push([Date.now(), text]);
  }).observe(indicator, { subtree: true, childList: true, characterData: true });
}
"""


async def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    await page.goto(f"{base_url}/accounts/login/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()


def editor(page: Page):
    return page.locator(".ProseMirror")


def connection(page: Page):
    return page.get_by_test_id("connection")


def save_state(page: Page):
    return page.get_by_test_id("save-state")


def online(page: Page, username: str):
    return page.get_by_test_id("online-list").locator(f'li[data-username="{username}"]')


def caret_label(page: Page, name: str):
    return editor(page).locator(".collaboration-carets__label", has_text=name)


async def open_document(page: Page, base_url: str, document_id: str) -> None:
    await page.goto(f"{base_url}/documents/{document_id}/")
    await expect_connected(page)


async def expect_connected(page: Page) -> None:
    await expect(connection(page), "the editor should connect and sync").to_have_attribute("data-state", "connected")
    await expect(editor(page)).to_be_visible()


async def content(page: Page) -> str:
    return await page.evaluate(CONTENT_JS)


async def text(page: Page) -> str:
    return await page.evaluate(TEXT_JS)


async def settle(page: Page) -> None:
    """Lets the page handle what is queued (selectionchange above all) before the next key.

    The browser moves the selection for clicks and keys like End or Shift+Home
    and tells the editor in a later task (selectionchange); a key that the
    editor handles itself (Enter, Ctrl+B, Ctrl+K) must not overtake that task,
    or it acts on the old selection. A person is never that fast; a test is.
    """
    await page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)))")


async def click_end_of_paragraph(page: Page, index: int) -> None:
    await editor(page).locator(":scope > p").nth(index).click()
    await page.keyboard.press("End")
    await settle(page)


async def wait_for_chars(page: Page, *expectations: tuple[str, str], timeout: float = 15_000) -> None:
    """Waits until, for each (alphabet, expected), the document's characters from alphabet are `expected`."""
    await page.wait_for_function(HAS_CHARS_JS, arg=[list(e) for e in expectations], timeout=timeout)


async def expect_same_content(reference: Page, other: Page, timeout: float = 15_000) -> str:
    """Waits until `other` shows exactly what `reference` shows; returns that HTML.

    Call it once both pages have received every edit (wait_for_chars), so that
    `reference` no longer changes.
    """
    expected = await content(reference)
    try:
        await other.wait_for_function(SAME_CONTENT_JS, arg=expected, timeout=timeout)
    except Exception:
        actual = await content(other)
        raise AssertionError(f"the editors differ:\n  one:   {expected}\n  other: {actual}") from None
    assert await content(reference) == expected, "the reference editor changed while waiting"
    return expected


def chars_of(value: str, alphabet: str) -> str:
    """The characters of `value` drawn from `alphabet`, in order."""
    return "".join(c for c in value if c in alphabet)


async def record_save_states(page: Page) -> None:
    """From now on, record every text the save indicator shows (read them with `save_states`)."""
    await page.evaluate(_RECORD_SAVE_STATES_JS)


async def save_states(page: Page) -> list[tuple[float, str]]:
    """(time in ms, text) of each state the save indicator showed since `record_save_states`."""
    return [tuple(entry) for entry in await page.evaluate("window.saveStates")]


# Puts each {mime type: text} on the system clipboard as one item (the async clipboard API).
_WRITE_CLIPBOARD_JS = """async (items) => {
  const parts = {};
  for (const [type, value] of Object.entries(items)) parts[type] = new Blob([value], { type });
  await navigator.clipboard.write([new ClipboardItem(parts)]);
}"""


async def paste(page: Page, *, html: str | None = None, text: str | None = None) -> None:
    """Copies `html` and/or `text` to the system clipboard and pastes them with Ctrl+V where the caret is,
    as a person pasting from another page or program does."""
    origin = "/".join(page.url.split("/", 3)[:3])
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    items = {}
    if html is not None:
        items["text/html"] = html
    if text is not None:
        items["text/plain"] = text
    await page.evaluate(_WRITE_CLIPBOARD_JS, items)
    await page.keyboard.press("Control+v")


async def export_json(page: Page, document_id: str) -> dict:
    """The document's ProseMirror JSON export, fetched as this page's user."""
    origin = "/".join(page.url.split("/", 3)[:3])
    response = await page.request.get(f"{origin}/api/documents/{document_id}/export?format=json")
    assert response.ok, await response.text()
    return await response.json()


# The cleaned text of every element matching a selector in the document (no carets, no widgets).
_TEXTS_JS = f"(selector) => {{ {_CLEAN_JS}; return [...cleanDocument().querySelectorAll(selector)].map((e) => e.textContent); }}"
_SAME_TEXTS_JS = f"""([selector, expected]) => {{
  {_CLEAN_JS};
  const texts = [...cleanDocument().querySelectorAll(selector)].map((e) => e.textContent);
  return JSON.stringify(texts) === JSON.stringify(expected);
}}"""


async def expect_texts(page: Page, selector: str, expected: list[str], timeout: float = 15_000) -> None:
    """Waits until the elements matching `selector` in the document hold exactly `expected`, in order,
    as a reader sees them (other people's caret labels are not text of the document)."""
    try:
        await page.wait_for_function(_SAME_TEXTS_JS, arg=[selector, expected], timeout=timeout)
    except Exception:
        actual = await page.evaluate(_TEXTS_JS, selector)
        raise AssertionError(f"{selector}: expected {expected}, have {actual}") from None


async def share_member(owner: Page, username: str):
    """Opens the share dialog on the owner's editor page; the row of `username` in it (role select,
    remove button). A change made there is made in the server's own process, as people make it."""
    await owner.get_by_test_id("share-button").click()
    return owner.get_by_role("dialog").locator(f'[data-testid="share-member"][data-username="{username}"]')


# Selects the `occurrence`-th (1-based) appearance of `phrase` in the editor's text, as a person
# dragging over it does (the page's selection; ProseMirror follows it on selectionchange).
_SELECT_TEXT_JS = """([phrase, occurrence, collapse]) => {
  const root = document.querySelector('.ProseMirror');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement.closest('.collaboration-carets__caret') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT
  });
  const nodes = [];
  let text = '';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) { nodes.push([node, text.length]); text += node.data; }
  let at = -1;
  for (let i = 0; i < occurrence; i++) { at = text.indexOf(phrase, at + 1); if (at < 0) return false; }
  const place = (offset, end) => {
    for (const [node, start] of nodes) {
      if (offset < start + node.data.length || (end && offset === start + node.data.length)) return [node, offset - start];
    }
  };
  const range = document.createRange();
  range.setStart(...place(at, false));
  range.setEnd(...place(at + phrase.length, true));
  if (collapse) range.collapse(true);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return true;
}"""


async def select_text(page: Page, phrase: str, occurrence: int = 1) -> None:
    """Selects `phrase` in the document, as a person dragging over it does."""
    await editor(page).focus()
    assert await page.evaluate(_SELECT_TEXT_JS, [phrase, occurrence, False]), f"{phrase!r} is not in the document"
    await settle(page)


async def put_caret(page: Page, before: str) -> None:
    """Puts the caret just before the first appearance of `before` in the document."""
    await editor(page).focus()
    assert await page.evaluate(_SELECT_TEXT_JS, [before, 1, True]), f"{before!r} is not in the document"
    await settle(page)
