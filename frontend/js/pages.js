// Small enhancements shared by every page: dialogs, confirmations, menus,
// forms submitted in place, toasts. Every page works without it, less nicely.

const $$ = (selector, root = document) => [...root.querySelectorAll(selector)]

// --- dialogs -------------------------------------------------------------------------
document.addEventListener('click', (event) => {
  const opener = event.target.closest('[data-open-dialog]')
  if (opener) document.getElementById(opener.dataset.openDialog)?.showModal()
  const closer = event.target.closest('dialog [data-close]')
  if (closer) closer.closest('dialog').close()
})
// A click on the backdrop (the dialog element itself, outside its content) closes it.
document.addEventListener('mousedown', (event) => {
  if (event.target instanceof HTMLDialogElement) {
    const box = event.target.getBoundingClientRect()
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom
    if (!inside) event.target.close()
  }
})

// --- rename (document list) ---------------------------------------------------------------
const renameDialog = document.getElementById('rename-dialog')
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action="rename"]')
  if (!button || !renameDialog) return
  const form = renameDialog.querySelector('form')
  form.setAttribute('action', button.dataset.url)
  form.elements.title.value = button.dataset.title
  renameDialog.showModal()
  form.elements.title.select()
})

// --- confirmations ---------------------------------------------------------------------------
let confirmDialog = null
function confirmWith ({ title, text, button }) {
  if (!confirmDialog) {
    confirmDialog = document.createElement('dialog')
    confirmDialog.className = 'dialog'
    confirmDialog.setAttribute('aria-labelledby', 'confirm-title')
    confirmDialog.innerHTML = `
      <form method="dialog" class="form">
        <h2 class="dialog__title" id="confirm-title"></h2>
        <p class="dialog__text"></p>
        <div class="dialog__actions">
          <button class="button" value="cancel" data-testid="confirm-cancel">Cancel</button>
          <button class="button button--danger-solid" value="ok" data-testid="confirm-ok"></button>
        </div>
      </form>`
    document.body.append(confirmDialog)
  }
  confirmDialog.querySelector('.dialog__title').textContent = title
  confirmDialog.querySelector('.dialog__text').textContent = text
  confirmDialog.querySelector('[value="ok"]').textContent = button
  confirmDialog.returnValue = ''
  confirmDialog.showModal()
  confirmDialog.querySelector('[value="cancel"]').focus()
  return new Promise((resolve) => {
    confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'ok'), { once: true })
  })
}

document.addEventListener('submit', async (event) => {
  const form = event.target
  if (!form.dataset.confirm || form.dataset.confirmed) return
  event.preventDefault()
  const ok = await confirmWith({
    title: form.dataset.confirmTitle || 'Are you sure?',
    text: form.dataset.confirm,
    button: form.dataset.confirmButton || 'OK'
  })
  if (ok) {
    form.dataset.confirmed = '1'
    form.requestSubmit()
  }
})

// --- forms submitted in place (the share panel) --------------------------------------------
async function submitInPlace (form, submitter) {
  const target = document.querySelector(form.dataset.swap)
  const body = new FormData(form, submitter)
  target.setAttribute('aria-busy', 'true')
  try {
    // getAttribute: a field named "action" would shadow form.action.
    const response = await fetch(form.getAttribute('action') || location.href, {
      method: 'POST',
      body,
      headers: { 'X-Requested-With': 'fetch' },
      credentials: 'same-origin'
    })
    const html = await response.text()
    if (!response.ok && response.status !== 400) throw new Error(`HTTP ${response.status}`)
    const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector(form.dataset.swap)
    target.replaceWith(fresh)
    fresh.querySelector('.input--invalid, [name="username"]')?.focus()
  } catch (error) {
    console.error(error)
    target.removeAttribute('aria-busy')
    form.submit()
  }
}
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!form.dataset.swap || event.defaultPrevented) return
  event.preventDefault()
  submitInPlace(form, event.submitter)
})
document.addEventListener('change', (event) => {
  const form = event.target.closest('form[data-autosubmit]')
  if (form) form.requestSubmit()
})

// --- menus: one open at a time, closed by a click elsewhere or Escape ---------------------------
document.addEventListener('click', (event) => {
  for (const menu of $$('details.menu[open]')) {
    if (!menu.contains(event.target)) menu.open = false
  }
})
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    for (const menu of $$('details.menu[open]')) menu.open = false
  }
})
document.addEventListener('click', (event) => {
  // Choosing an item closes its menu.
  const item = event.target.closest('details.menu a.menu__item')
  if (item) item.closest('details').open = false
})

// --- copy buttons ------------------------------------------------------------------------------
document.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-copy]')
  if (!button) return
  const field = document.querySelector(button.dataset.copy)
  field.select()
  try {
    await navigator.clipboard.writeText(field.value)
  } catch {
    document.execCommand('copy')
  }
  button.textContent = 'Copied'
  setTimeout(() => { button.textContent = 'Copy' }, 2000)
})

// --- toasts ------------------------------------------------------------------------------------
for (const toast of $$('.toast')) {
  const remove = () => toast.remove()
  toast.querySelector('[data-dismiss]')?.addEventListener('click', remove)
  if (!toast.classList.contains('toast--error')) setTimeout(remove, 5000)
}
