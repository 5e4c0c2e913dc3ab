// Comment anchors made and resolved by the real Yjs, for tests/documents/test_anchors.py.
//
//   node anchors.mjs make      -> prints {update, pairs: [{start, end, quote, position}]}: a document built
//                                 the y-prosemirror way by two clients, relative positions made on it the ways
//                                 y-prosemirror / y-tiptap make them, then edits around, inside and over them;
//                                 each pair resolved by Y.createAbsolutePositionFromRelativePosition.
//   node anchors.mjs resolve   -> reads {update, anchors: [{start, end}]} on stdin, prints [{quote, position}].
//
// The plain text is the server's (documents/anchors.py): each text block's text, blocks joined with "\n",
// offsets in code points; a range neither starts nor ends with a block break.
import * as Y from 'yjs'

const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'))
const codePoints = (s) => Array.from(s).length

function linearize (fragment) {
  const out = { text: '', segments: new Map(), childStarts: new Map(), spans: new Map(), separators: new Set() }
  let blocks = 0
  const walk = (node, inBlock) => {
    const children = node.toArray()
    const isBlock = !inBlock && node !== fragment &&
      (children.length === 0 || children.some((c) => c instanceof Y.XmlText))
    if (isBlock) {
      if (blocks) { out.separators.add(codePoints(out.text)); out.text += '\n' }
      blocks++
    }
    const start = codePoints(out.text)
    const starts = []
    for (const child of children) {
      starts.push(codePoints(out.text))
      if (child instanceof Y.XmlText) {
        const text = child.toDelta().map((d) => typeof d.insert === 'string' ? d.insert : '\ufffc').join('')
        out.segments.set(child, { start: codePoints(out.text), text })
        out.text += text
      } else {
        walk(child, inBlock || isBlock)
      }
    }
    out.childStarts.set(node, starts)
    out.spans.set(node, [start, codePoints(out.text)])
  }
  walk(fragment, false)
  return out
}

function offsetOf (lin, abs) {
  if (abs === null) return null
  const segment = lin.segments.get(abs.type)
  if (segment) return segment.start + codePoints(segment.text.slice(0, abs.index))
  const starts = lin.childStarts.get(abs.type)
  if (!starts) return null
  return abs.index < starts.length ? starts[abs.index] : lin.spans.get(abs.type)[1]
}

function resolvePair (doc, lin, start, end) {
  let a = offsetOf(lin, Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(unb64(start)), doc))
  let b = offsetOf(lin, Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(unb64(end)), doc))
  while (a !== null && b !== null && a < b && lin.separators.has(a)) a++
  while (a !== null && b !== null && b > a && lin.separators.has(b - 1)) b--
  if (a === null || b === null || b <= a) return { quote: '', position: null }
  return { quote: Array.from(lin.text).slice(a, b).join(''), position: a }
}

const rel = (type, index, assoc) => b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(type, index, assoc)))

function make () {
  const alice = new Y.Doc()
  alice.clientID = 1001
  const fragment = alice.getXmlFragment('default')
  const texts = ['Title of it', 'Hello brave 😀 new world, hello again.', '', 'An item', 'Last words here']
  alice.transact(() => {
    const heading = new Y.XmlElement('heading')
    heading.setAttribute('level', 1)
    heading.insert(0, [new Y.XmlText(texts[0])])
    const para = new Y.XmlElement('paragraph')
    para.insert(0, [new Y.XmlText(texts[1])])
    const empty = new Y.XmlElement('paragraph')
    const item = new Y.XmlElement('paragraph')
    item.insert(0, [new Y.XmlText(texts[3])])
    const listItem = new Y.XmlElement('listItem')
    listItem.insert(0, [item])
    const list = new Y.XmlElement('bulletList')
    list.insert(0, [listItem])
    const last = new Y.XmlElement('paragraph')
    last.insert(0, [new Y.XmlText(texts[4])])
    fragment.insert(0, [heading, para, empty, list, last])
  })
  // A second client types into the same text (interleaved items of two clients), and formats some.
  const bob = new Y.Doc()
  bob.clientID = 7
  Y.applyUpdate(bob, Y.encodeStateAsUpdate(alice))
  const bobPara = bob.getXmlFragment('default').get(1).get(0)
  bobPara.insert(6, 'very ')
  bobPara.format(0, 5, { bold: true })
  bobPara.delete(bobPara.toString().length - 7, 1)
  Y.applyUpdate(alice, Y.encodeStateAsUpdate(bob))

  const heading = fragment.get(0).get(0)
  const para = fragment.get(1).get(0)
  const empty = fragment.get(2)
  const item = fragment.get(3).get(0).get(0).get(0)
  const last = fragment.get(4).get(0)
  const s = para.toString().length ? para.toDelta().map((d) => d.insert).join('') : ''
  const at = (word) => s.indexOf(word)
  const positions = [
    // [start, end] as the browser makes them: y-tiptap uses assoc -1 for both; y-prosemirror 0.
    [rel(para, at('brave'), -1), rel(para, at('brave') + 5, -1)],
    [rel(para, at('brave'), 0), rel(para, at('brave') + 5, -1)],
    [rel(para, at('very'), 0), rel(para, at('new') + 3, 0)],
    [rel(para, at('😀'), 0), rel(para, at('😀') + 2, -1)], // an astral character: two UTF-16 units
    [rel(para, 0, -1), rel(para, 5, -1)], // from the text's start (a position on the type)
    [rel(heading, 6, 0), rel(para, 5, 0)], // across blocks
    [rel(item, 0, 0), rel(item, item.length, 0)], // the end of a text, assoc 0: a position on the type
    [rel(fragment, 0, -1), rel(heading, 5, -1)], // pos 0 of the document (y-tiptap)
    [rel(fragment, 0, 0), rel(heading, 5, -1)], // pos 0 of the document (y-prosemirror: the first block's item)
    [rel(para, at('hello'), 0), b64(Y.encodeRelativePosition(new Y.RelativePosition(empty._item.id, null, null)))],
    [rel(last, 0, 0), rel(last, 4, -1)], // to be deleted entirely
    [rel(last, 5, 0), rel(last, 10, -1)], // to be typed into
    [rel(heading, 0, 0), rel(heading, 5, -1)], // its first character deleted
  ]
  // Edits after the anchors were made: before, inside, over them.
  bob.transact(() => {})
  Y.applyUpdate(bob, Y.encodeStateAsUpdate(alice))
  const bobLast = bob.getXmlFragment('default').get(4).get(0)
  bobLast.insert(7, ' and more')
  bobLast.delete(0, 4)
  bobLast.insert(0, 'New ')
  const bobHeading = bob.getXmlFragment('default').get(0).get(0)
  bobHeading.delete(0, 1)
  const bobPara2 = bob.getXmlFragment('default').get(1).get(0)
  bobPara2.insert(0, 'Oh. ')
  Y.applyUpdate(alice, Y.encodeStateAsUpdate(bob))

  const lin = linearize(fragment)
  const pairs = positions.map(([start, end]) => ({ start, end, ...resolvePair(alice, lin, start, end) }))
  return { update: b64(Y.encodeStateAsUpdate(alice)), text: lin.text, pairs }
}

function resolve (input) {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, unb64(input.update))
  const lin = linearize(doc.getXmlFragment('default'))
  return input.anchors.map(({ start, end }) => resolvePair(doc, lin, start, end))
}

const mode = process.argv[2]
if (mode === 'make') {
  console.log(JSON.stringify(make()))
} else {
  let data = ''
  process.stdin.on('data', (chunk) => { data += chunk })
  process.stdin.on('end', () => console.log(JSON.stringify(resolve(JSON.parse(data)))))
}
