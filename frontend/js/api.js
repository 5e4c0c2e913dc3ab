// Calls to the REST API (/api/) from the pages, with the session cookie.
//
// Unsafe methods need Django's CSRF token in X-CSRFToken (documents/auth.py):
// the page carries it in a form field (the sign-out form in the account menu
// is on every signed-in page). Errors come back as JSON {detail} (documents/
// api_http.py); ApiError carries that sentence for the page to show.

export function csrfToken () {
  return document.querySelector('input[name=csrfmiddlewaretoken]')?.value ?? ''
}

export class ApiError extends Error {
  constructor (status, detail) {
    super(detail)
    this.status = status
    this.detail = detail
  }
}

/**
 * fetch() for the JSON API: sends `json` as the body, returns the parsed answer
 * (null for 204), throws ApiError with the server's sentence otherwise.
 */
export async function api (url, { method = 'GET', json, signal } = {}) {
  const headers = { Accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRFToken'] = csrfToken()
  if (json !== undefined) headers['Content-Type'] = 'application/json'
  let response
  try {
    response = await fetch(url, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: 'same-origin',
      signal
    })
  } catch (error) {
    if (error.name === 'AbortError') throw error
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.')
  }
  if (response.status === 204) return null
  let body = null
  try {
    body = await response.json()
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok) {
    const detail = typeof body?.detail === 'string' ? body.detail : `The server answered ${response.status}.`
    throw new ApiError(response.status, detail)
  }
  return body
}
