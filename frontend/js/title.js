// The document title in the editor bar: saved when the field is left or
// Enter is pressed, reverted by Escape.

import { csrfToken } from './api.js'

export function bindTitle (input, url) {
  let saved = input.value
  const save = async () => {
    const title = input.value.trim()
    if (title === saved) return
    input.classList.add('is-saving')
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'X-CSRFToken': csrfToken(), 'X-Requested-With': 'fetch' },
        body: new URLSearchParams({ title })
      })
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
      const body = await response.json()
      saved = body.title
      input.value = saved
      document.title = `${saved} · Coedit`
      input.classList.remove('is-invalid')
    } catch (error) {
      console.error('renaming failed', error)
      input.classList.add('is-invalid')
      input.title = 'The title could not be saved. Try again.'
    } finally {
      input.classList.remove('is-saving')
    }
  }
  input.addEventListener('change', save)
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault()
      input.blur()
    } else if (event.key === 'Escape') {
      input.value = saved
      input.blur()
    }
  })
}
