// The list of people online, from the awareness states of the document.
// One avatar per person (a person with two tabs open shows once); the
// server's own entry is not a person and is skipped.

const MAX_SHOWN = 5
// Colours come from other people's browsers: only a plain #rgb / #rrggbb goes
// into CSS (anything else could load a URL: a tracking beacon). The server
// refuses others too (collab/presence.py); this holds even if one slips by.
const PLAIN_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i
const NEUTRAL_COLOR = '#6b7280'

export function safeColor (color) {
  return typeof color === 'string' && PLAIN_COLOR.test(color) ? color : NEUTRAL_COLOR
}

export function peopleOnline (awareness, selfId) {
  const people = new Map()
  for (const [clientId, state] of awareness.getStates()) {
    if (!state || state.server || !state.user || typeof state.user.username !== 'string' || !state.user.username) continue
    const { username } = state.user
    const entry = people.get(username)
    const self = clientId === selfId
    // Strings only: a number as a name would break the sort below for everyone.
    const name = typeof state.user.name === 'string' && state.user.name ? state.user.name : username
    const initials = typeof state.user.initials === 'string' ? state.user.initials : ''
    if (!entry) people.set(username, { username, name, initials, color: safeColor(state.user.color), self })
    else if (self) entry.self = true
  }
  // Me first, then the others by name.
  return [...people.values()].sort((a, b) => (b.self - a.self) || a.name.localeCompare(b.name))
}

function avatar (person) {
  const li = document.createElement('li')
  li.className = 'online__person'
  li.dataset.username = person.username
  li.title = person.self ? `${person.name} (you)` : person.name
  const badge = document.createElement('span')
  badge.className = 'avatar'
  badge.style.setProperty('--avatar', safeColor(person.color))
  badge.textContent = person.initials
  li.append(badge)
  return li
}

export function renderOnline (list, people) {
  const shown = people.slice(0, MAX_SHOWN).map(avatar)
  if (people.length > MAX_SHOWN) {
    const more = document.createElement('li')
    more.className = 'online__more'
    more.textContent = `+${people.length - MAX_SHOWN}`
    more.title = people.slice(MAX_SHOWN).map((p) => p.name).join(', ')
    shown.push(more)
  }
  list.replaceChildren(...shown)
  list.setAttribute('aria-label', `${people.length} ${people.length === 1 ? 'person' : 'people'} online`)
}
