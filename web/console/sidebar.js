// The side panels of a conversation: who the customer is with their other conversations,
// and the records (tickets, orders) linked to it.

import { html, useEffect, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";
import { day } from "/assets/console/format.js";

/** The contact behind a conversation: how to reach them, and their other conversations
 *  that I may open (with how many more exist that I may not). */
export function ContactPanel({ contact, current }) {
  const [card, setCard] = useState(null);
  useEffect(() => {
    api("GET", `/api/contacts/${contact}`).then(setCard, () => setCard(null));
  }, [contact, current]);
  if (!card) return null;
  const others = card.conversations.filter((c) => c.id !== current);
  return html`
    <section class="contact" aria-labelledby="contact-title">
      <h2 id="contact-title">Contact</h2>
      <p><strong>${card.name || "Visitor"}</strong>
        ${card.email && html`<br /><a href=${`mailto:${card.email}`}>${card.email}</a>`}
        ${card.phone && html`<br />${card.phone}`}</p>
      <h3>Other conversations</h3>
      ${others.length === 0 && card.hidden_conversations === 0
        ? html`<p class="muted">None.</p>`
        : html`<ul class="others">
            ${others.map(
              (c) => html`<li><a href=${`#/c/${c.id}`}>${day(c.created_at)}</a> <span class="status ${c.status}">${c.status}</span></li>`,
            )}
            ${card.hidden_conversations > 0 &&
            html`<li class="muted">and ${card.hidden_conversations} you may not open</li>`}
          </ul>`}
    </section>`;
}

/** The records linked to a conversation, each opening where it lives; for those who may
 *  link (`onLink`), a form to add one and a button to take each off. */
export function Links({ links, onLink, onUnlink }) {
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const form = Object.fromEntries(new FormData(e.target));
    try {
      await onLink(form);
      setAdding(false);
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`
    <section class="links" aria-labelledby="links-title">
      <h2 id="links-title">Linked records</h2>
      ${links.length === 0 && html`<p class="muted">None yet.</p>`}
      <ul>
        ${links.map(
          (l) => html`<li><a href=${l.url} target="_blank" rel="noopener noreferrer">${l.title}</a>
            <span class="muted">${l.system} ${l.id}</span>
            ${onUnlink && html`<button class="link" aria-label=${`Unlink ${l.title}`} onClick=${() => onUnlink(l)}>✕</button>`}</li>`,
        )}
      </ul>
      ${onLink && !adding && html`<button class="link" onClick=${() => setAdding(true)}>Link a record…</button>`}
      ${adding &&
      html`<form class="link-form" onSubmit=${submit}>
        <label>System <input name="system" required placeholder="zendesk" /></label>
        <label>Record <input name="record" required placeholder="4711" /></label>
        <label>Title <input name="title" required placeholder="Late delivery" /></label>
        <label>Address <input name="url" type="url" required placeholder="https://…" /></label>
        <div class="actions">
          <button type="button" class="secondary" onClick=${() => setAdding(false)}>Cancel</button>
          <button type="submit">Link</button>
        </div>
        <p class="error" role="alert">${error ?? ""}</p>
      </form>`}
    </section>`;
}
