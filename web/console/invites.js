// Invitations offered to me: kept from `GET /api/invitations` and the `invitation` and
// `invitation_withdrawn` frames, shown in the Invites tab, where I take one up (in the
// mode it offers) or reject it. A browser notification tells of a new one, once allowed.

import { html, useEffect, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";
import { nameOf, until } from "/assets/console/format.js";

/** The open invitations offered to me, live. */
export function useInvitations(live, people) {
  const [invitations, setInvitations] = useState([]);
  useEffect(() => {
    const load = () =>
      api("GET", "/api/invitations")
        .then((open) => setInvitations(open.map((i) => ({ ...i, invitation: i.id }))))
        .catch(() => {});
    const stops = [
      live.on("invitation", (offer) => {
        setInvitations((list) => [...list.filter((i) => i.invitation !== offer.invitation), offer]);
        if (globalThis.Notification?.permission === "granted") {
          new Notification("Conclave: you are invited", {
            body: `${nameOf(people, offer.inviter)} invites you as ${offer.mode}`,
          });
        }
      }),
      live.on("invitation_withdrawn", (gone) =>
        setInvitations((list) => list.filter((i) => i.invitation !== gone.invitation)),
      ),
      // What was offered or withdrawn while the connection was down.
      live.on("hello", load),
    ];
    load();
    return () => stops.forEach((stop) => stop());
  }, [people]);
  const settle = (id) => setInvitations((list) => list.filter((i) => i.invitation !== id));
  return [invitations, settle];
}

export function Invites({ invitations, settle, live, people }) {
  const [error, setError] = useState(null);
  const [visitors, setVisitors] = useState(new Map());
  useEffect(() => {
    for (const offer of invitations) {
      if (visitors.has(offer.conversation)) continue;
      api("GET", `/api/conversations/${offer.conversation}`)
        .then((c) => setVisitors((known) => new Map(known).set(offer.conversation, c.customer_name)))
        .catch(() => {});
    }
  }, [invitations]);
  const answer = async (offer, type) => {
    try {
      await live.send({ type, conversation: offer.conversation, invitation: offer.invitation });
      settle(offer.invitation);
      setError(null);
      if (type === "accept") location.hash = `#/c/${offer.conversation}`;
    } catch (err) {
      // Taken by another, expired or cancelled meanwhile: it is no longer open.
      settle(offer.invitation);
      setError(err.message);
    }
  };
  const ask = () => globalThis.Notification?.requestPermission();
  return html`
    <section class="invites" aria-labelledby="invites-title">
      <h1 id="invites-title">Invites</h1>
      ${globalThis.Notification?.permission === "default" &&
      html`<p><button class="link" onClick=${ask}>Tell me of new invitations with a browser notification</button></p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${invitations.length === 0
        ? html`<p class="placeholder">No invitations right now.</p>`
        : html`
            <ul class="offers">
              ${invitations.map(
                (offer) => html`
                  <li class="offer" data-invitation=${offer.invitation}>
                    <span>
                      <strong>${nameOf(people, offer.inviter)}</strong>${` invites you to ${visitors.get(offer.conversation) ?? "a conversation"} as ${offer.mode} `}
                      <span class="muted">(lapses in ${until(offer.expires_at)})</span>
                    </span>
                    <button onClick=${() => answer(offer, "accept")}>
                      ${offer.mode === "monitor" ? "Monitor" : "Participate"}
                    </button>
                    <button class="secondary" onClick=${() => answer(offer, "decline")}>Reject</button>
                  </li>`,
              )}
            </ul>`}
    </section>`;
}
