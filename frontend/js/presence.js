// The list of people online, from the awareness states of the document.
// One avatar per person (a person with two tabs open shows once); the
// server's own entry is not a person and is skipped.

const MAX_SHOWN = 5

export function peopleOnline (awareness, selfId) {
  const people = new Map()
  for (const [clientId, state] of awareness.getStates()) {
    if (!state || state.server || !state.user || !state.user.username) continue
    const { username } = state.user
    const entry = people.get(username)
    const self = clientId === selfId
    if (!entry) people.set(username, { ...state.user, self })
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
  badge.style.setProperty('--avatar', person.color)
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
