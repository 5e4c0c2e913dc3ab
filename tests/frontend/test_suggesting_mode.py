"""The Suggesting mode's rewriting of edits (frontend/js/suggestions.js), run by Node on the editor's own schema.

Cheaper than a browser for the cases a browser test would need many keys for:
what each kind of edit becomes, and what accept and reject do to each kind.
"""

import json
import shutil
import subprocess

from tests.documents.export.tiptap_node import FRONTEND
from tests.support.services import missing

SCRIPT = r"""
import { getSchema } from "@tiptap/core";
import { EditorState, TextSelection } from "@tiptap/pm/state";
import { contentExtensions } from "./js/content.js";
import { suggestTransaction, resolveSuggestion, pendingSuggestions } from "./js/suggestions.js";

const schema = getSchema(contentExtensions());
const bob = { username: "bob", name: "Bob Chen" };
const eve = { username: "eve", name: "Eve" };
const start = (...content) => EditorState.create({ schema, doc: schema.nodeFromJSON({ type: "doc", content }) });
const p = (text) => ({ type: "paragraph", content: [{ type: "text", text }] });
const runs = (state) => state.doc.toJSON().content.map((block) => (block.content || []).map((n) =>
  [n.text, ...(n.marks || []).map((m) => m.type === "suggestionInsert" ? `+${m.attrs.author}` : m.type === "suggestionDelete" ? `-${m.attrs.author}` : m.type)]));
const as = (me, state, build, select) => {
  let tr = state.tr;
  if (select) tr = tr.setSelection(TextSelection.create(state.doc, ...select));
  state = state.apply(tr);
  return state.apply(suggestTransaction(build(state.tr), state, me));
};
const ids = (state) => pendingSuggestions(state.doc).map((s) => s.id);
const review = (state, id, accept) => {
  const editor = { state, view: { dispatch: (tr) => { editor.state = editor.state.apply(tr); } } };
  resolveSuggestion(editor, id, accept);
  return editor.state;
};
const out = {};

// Typing, key by key: one suggestion; Backspace over it removes it for real.
let s = start(p("Alpha"));
for (const [i, c] of [..." beta"].entries()) s = as(bob, s, (tr) => tr.insertText(c, 6 + i));
out.typed = [runs(s), ids(s).length];
s = as(bob, s, (tr) => tr.delete(10, 11), [11]);
out.backspaceOwn = [runs(s), s.selection.head];

// Deleting someone's text marks it; the caret goes before it (Backspace), so the next one goes on.
s = as(eve, start(p("Alpha")), (tr) => tr.delete(5, 6), [6]);
s = as(eve, s, (tr) => tr.delete(s.selection.head - 1, s.selection.head), [s.selection.head]);
out.backspaceOther = [runs(s), s.selection.head, ids(s).length];

// Typing over a selection: one suggestion, its deletion and its insertion.
s = as(bob, start(p("one two")), (tr) => tr.insertText("2", 5, 8), [5, 8]);
out.replace = [runs(s), ids(s).length, s.selection.head];
const replacement = ids(s)[0];
out.acceptReplace = runs(review(s, replacement, true));
out.rejectReplace = runs(review(s, replacement, false));

// Another person deleting Bob's proposal proposes its deletion; accepting either only touches its own text.
s = as(bob, start(p("ab")), (tr) => tr.insertText("XY", 3));
s = as(eve, s, (tr) => tr.delete(3, 5), [3, 5]);
out.deleteOthersInsert = runs(s);
const [bobs, eves] = pendingSuggestions(s.doc).sort((a, b) => (a.attrs.author < b.attrs.author ? -1 : 1)).map((x) => x.id);
out.acceptBobsThenRejectEves = runs(review(review(s, bobs, true), eves, false));
out.rejectBobs = runs(review(s, bobs, false));

// Text that cannot carry the mark is refused, not slipped in untracked.
s = start({ type: "codeBlock", content: [{ type: "text", text: "x = 1" }] });
out.codeBlock = runs(as(bob, s, (tr) => tr.insertText("0", 6)));
s = start({ type: "paragraph", content: [{ type: "text", text: "f()", marks: [{ type: "code" }] }] });
out.inlineCode = runs(as(bob, s, (tr) => tr.insertText("g", 2)));

// Enter (structure) applies as it is; the text typed after it is a proposal.
s = as(bob, start(p("ab")), (tr) => tr.split(3));
s = as(bob, s, (tr) => tr.insertText("c", 5));
out.enter = runs(s);

// Backspace at the start of a paragraph joins it to the one before (structure): as it is.
s = as(bob, start(p("ab"), p("cd")), (tr) => tr.delete(3, 5), [5]);
out.join = [runs(s), s.selection.head];

// An image replaced in place (images.js swaps a pasted data: image for the uploaded one): replaced, not doubled.
const img = (src) => ({ type: "image", attrs: { src } });
s = start(p("a"), img("data:image/png;base64,AAAA"), p("b"));
s = as(bob, s, (tr) => tr.replaceWith(3, 4, schema.nodeFromJSON(img("/media/x.png"))));
out.image = s.doc.toJSON().content.map((node) => node.attrs?.src ?? node.type);

process.stdout.write(JSON.stringify(out));
"""


def run_script() -> dict:
    if shutil.which("node") is None or not (FRONTEND / "node_modules" / "@tiptap" / "core").is_dir():
        missing("node and frontend/node_modules (npm ci in frontend/)")
    proc = subprocess.run(["node", "--input-type=module", "-e", SCRIPT], cwd=FRONTEND, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_each_edit_becomes_a_proposal_and_each_review_does_what_it_says():
    out = run_script()
    assert out["typed"] == [[[["Alpha"], [" beta", "+bob"]]], 1]
    assert out["backspaceOwn"] == [[[["Alpha"], [" bet", "+bob"]]], 10]
    assert out["backspaceOther"] == [[[["Alp"], ["ha", "-eve"]]], 4, 1]
    assert out["replace"] == [[[["one "], ["two", "-bob"], ["2", "+bob"]]], 1, 9]
    assert out["acceptReplace"] == [[["one 2"]]]
    assert out["rejectReplace"] == [[["one two"]]]
    assert out["deleteOthersInsert"] == [[["ab"], ["XY", "+bob", "-eve"]]]
    assert out["acceptBobsThenRejectEves"] == [[["abXY"]]]
    assert out["rejectBobs"] == [[["ab"]]]
    assert out["codeBlock"] == [[["x = 1"]]]
    assert out["inlineCode"] == [[["f()", "code"]]]
    assert out["enter"] == [[["ab"]], [["c", "+bob"]]]
    assert out["join"] == [[[["abcd"]]], 3]
    assert out["image"] == ["paragraph", "/media/x.png", "paragraph"]
