// @mentions in a comment box (issue 20): typing @ suggests the people who
// have access to the document (GET /api/documents/<id>/people/?q=), picked
// with the arrow keys and Enter or Tab, or with the mouse; the pick becomes
// `@username ` in the text, which is what the server reads as a mention.
// The list is a listbox tied to the textarea (aria-activedescendant), so a
// screen reader follows the highlighted person.

import { api } from './api.js'

// A mention being typed: an @ at the start or after a space, then the name so far, up to the caret.
const TYPING = /(?:^|\s)@([\w.@+-]{0,150})$/
let counter = 0

/** What is being typed before `caret` in `text`: {start, query} of the mention, or null. */
export function mentionAt (text, caret) {
  const match = TYPING.exec(text.slice(0, caret))
  if (!match) return null
  return { start: caret - match[1].length - 1, query: match[1] }
}

/**
 * Adds the @ menu to a textarea.
 * @param {HTMLTextAreaElement} textarea
 * @param {string} peopleUrl GET ?q= -> [{username, name}]
 */
export function bindMentions (textarea, peopleUrl) {
  const id = `mention-list-${++counter}`
  const menu = document.createElement('ul')
  menu.className = 'mentions'
  menu.id = id
  menu.setAttribute('role', 'listbox')
  menu.setAttribute('aria-label', 'People to mention')
  menu.dataset.testid = 'mention-menu'
  menu.hidden = true
  textarea.after(menu)
  textarea.setAttribute('aria-autocomplete', 'list')
  textarea.setAttribute('aria-controls', id)
  textarea.setAttribute('aria-expanded', 'false')

  let people = []
  let selected = 0
  let typing = null
  let asked = 0
  let abort = null

  const close = () => {
    menu.hidden = true
    textarea.setAttribute('aria-expanded', 'false')
    textarea.removeAttribute('aria-activedescendant')
    people = []
    typing = null
  }

  const render = () => {
    menu.replaceChildren(...people.map((person, index) => {
      const item = document.createElement('li')
      item.id = `${id}-${index}`
      item.className = 'mentions__item'
      item.setAttribute('role', 'option')
      item.setAttribute('aria-selected', String(index === selected))
      item.dataset.username = person.username
      const name = document.createElement('span')
      name.className = 'mentions__name'
      name.textContent = person.name || person.username
      const login = document.createElement('small')
      login.textContent = `@${person.username}`
      item.append(name, ' ', login)
      // mousedown, not click: the textarea keeps the focus and its caret.
      item.addEventListener('mousedown', (event) => {
        event.preventDefault()
        pick(index)
      })
      return item
    }))
    menu.hidden = people.length === 0
    textarea.setAttribute('aria-expanded', String(!menu.hidden))
    if (menu.hidden) textarea.removeAttribute('aria-activedescendant')
    else textarea.setAttribute('aria-activedescendant', `${id}-${selected}`)
  }

  const pick = (index) => {
    const person = people[index]
    if (!person || !typing) return
    const caret = textarea.selectionStart
    const before = textarea.value.slice(0, typing.start)
    const after = textarea.value.slice(caret)
    const inserted = `@${person.username} `
    textarea.value = before + inserted + after.replace(/^\s/, '')
    const at = before.length + inserted.length
    textarea.setSelectionRange(at, at)
    close()
    textarea.dispatchEvent(new Event('input', { bubbles: true }))
  }

  const update = async () => {
    const found = mentionAt(textarea.value, textarea.selectionStart)
    if (!found || textarea.selectionStart !== textarea.selectionEnd) return close()
    typing = found
    const mine = ++asked
    abort?.abort()
    abort = new AbortController()
    try {
      const url = new URL(peopleUrl, location.href)
      url.searchParams.set('q', found.query)
      const answer = await api(url.href, { signal: abort.signal })
      if (mine !== asked) return
      people = (Array.isArray(answer) ? answer : answer?.items ?? []).slice(0, 8)
      selected = 0
      render()
    } catch (error) {
      if (error.name !== 'AbortError' && mine === asked) close()
    }
  }

  textarea.addEventListener('input', (event) => {
    if (event.isTrusted || event.inputType) update()
  })
  textarea.addEventListener('click', update)
  textarea.addEventListener('blur', () => setTimeout(close, 0))
  textarea.addEventListener('keydown', (event) => {
    if (menu.hidden) return
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      selected = (selected + (event.key === 'ArrowDown' ? 1 : -1) + people.length) % people.length
      render()
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault()
      event.stopImmediatePropagation()
      pick(selected)
    } else if (event.key === 'Escape') {
      event.preventDefault()
      event.stopImmediatePropagation()
      close()
    }
  })
  return { close }
}
