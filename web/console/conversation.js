// One conversation: its transcript with names and day separators, who is in it, and for
// its lead and participants the composer, which writes a reply (to the customer) or an
// internal note (Ctrl/Cmd+Shift+N switches). Anyone who may view it reads it; an agent
// of its team picks a waiting one up.

import { html, useEffect, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";
import { Composer } from "/assets/console/composer.js";
import { nameOf } from "/assets/console/format.js";
import { InviteDialog } from "/assets/console/invite.js";
import { ContactPanel, Links } from "/assets/console/sidebar.js";
import { useStream } from "/assets/console/stream.js";
import { isMessage, MessageItem, quoteOf, Transcript } from "/assets/console/thread.js";

/** What a transcript shows of an event that is not a message, or null for nothing. */
function notice(event, name) {
  switch (event.kind) {
    case "opened":
      return `${event.customer_name || "The visitor"} started the chat`;
    case "joined":
      return `${event.name} joined as ${event.mode}`;
    case "left":
      return `${name(event.user)} left`;
    case "closed":
      return event.resolution ? `Closed as solved: ${event.resolution}` : "Closed as solved";
    case "reopened":
      return "Reopened";
    case "lead_transferred":
      return `${name(event.to)} took over the lead`;
    case "linked":
      return `Linked ${event.link.title} (${event.link.system} ${event.link.id})`;
    case "unlinked":
      return `Unlinked ${event.system} ${event.id}`;
    case "invited":
      return `An invitation went out (${event.mode})`;
    default:
      return null;
  }
}

/** The invitations of the transcript that nobody has answered yet, by id. */
function pendingInvitations(events) {
  const pending = new Map();
  for (const e of events) {
    if (e.kind === "invited") pending.set(e.invitation, e);
    else if (e.kind === "joined" && e.invitation) pending.delete(e.invitation);
    else if (e.kind === "invitation_declined" && e.remaining === 0) pending.delete(e.invitation);
    else if (e.kind === "invitation_cancelled" || e.kind === "invitation_expired") pending.delete(e.invitation);
    else if (e.kind === "closed") pending.clear();
  }
  return [...pending.values()];
}

/** Who an invitation is for, as people read it. */
function invitee(target, name) {
  if (target.kind === "agent") return name({ kind: "staff", id: target.id });
  if (target.kind === "team") return "the team";
  return `anyone with the skill "${target.id}"`;
}

function CloseForm({ onClose, onCancel }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const resolution = new FormData(e.target).get("resolution").trim();
    try {
      await onClose(resolution || null);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`
    <form class="close" onSubmit=${submit}>
      <label>Resolution note (staff only)
        <textarea name="resolution" rows="2" placeholder="What solved it?"></textarea>
      </label>
      <div class="actions">
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
        <button type="submit">Close as solved</button>
      </div>
      <p class="error" role="alert">${error ?? ""}</p>
    </form>`;
}

export function Conversation({ id, me, live, people }) {
  const [detail, setDetail] = useState(null);
  const stream = useStream(`/api/conversations/${id}`);
  const [names, setNames] = useState(new Map());
  const [error, setError] = useState(null);
  const [dialog, setDialog] = useState(null);
  const [typing, setTyping] = useState(null);
  const [avatars, setAvatars] = useState(new Map());
  const [quoting, setQuoting] = useState(null);
  const [canned, setCanned] = useState([]);
  const key = `conversation:${id}`;

  /** Reads the conversation's detail again (participants, status, links). */
  const refresh = async () => setDetail(await api("GET", `/api/conversations/${id}`));
  /** Learns the names and avatars of a page's people. */
  const meet = (page) => {
    if (!page) return;
    setNames((known) => new Map([...known, ...page.people.map((p) => [`${p.kind}:${p.id}`, p.name])]));
    setAvatars((known) => new Map([...known, ...page.people.filter((p) => p.avatar_url).map((p) => [`${p.kind}:${p.id}`, p.avatar_url])]));
  };
  const load = async () => {
    const [conversation, page] = await Promise.all([api("GET", `/api/conversations/${id}`), stream.newest()]);
    meet(page);
    setDetail(conversation);
    api("GET", `/api/teams/${conversation.team}/canned`).then(setCanned, () => {});
    return { conversation, last: page.events.at(-1)?.seq ?? 0 };
  };

  useEffect(() => {
    const stopTyping = live.on("typing", (frame) => {
      if (frame.conversation !== id) return;
      const who = frame.author;
      setTyping(who);
      setTimeout(() => setTyping((t) => (t === who ? null : t)), 4000);
    });
    const stop = live.on("event", (event) => {
      if (event.conversation !== id) return;
      if (isMessage(event)) setTyping(null);
      if (event.kind === "joined") {
        setNames((known) => new Map(known).set(`staff:${event.user}`, event.name));
      }
      stream.add([event]);
      if (["joined", "left", "closed", "reopened", "lead_transferred", "invited", "linked", "unlinked"].includes(event.kind)) {
        refresh().catch(() => {});
      }
    });
    load()
      .then(({ conversation, last }) => {
        if (conversation.participants.some((p) => p.user === me.id)) live.follow(key, last);
      })
      .catch((err) => setError(err.message));
    return () => {
      stop();
      stopTyping();
      live.unfollow(key);
    };
  }, [id]);

  const name = (author) => {
    if (author.kind === "system") return "Conclave";
    if (author.kind === "customer") return detail?.customer_name || "Visitor";
    return names.get(`staff:${author.id}`) ?? nameOf(people, author.id);
  };
  const mine = detail?.participants.find((p) => p.user === me.id);
  const act = async (command, follow) => {
    try {
      const ok = await live.send({ ...command, conversation: id });
      if (follow) live.follow(key, ok.seq);
      await refresh();
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  };
  const post = (kind, body, attachments, quote) =>
    live.send({ type: "post", conversation: id, kind, body, attachments, quote, client_id: crypto.randomUUID() });
  const typed = () => live.send({ type: "typing", conversation: id }).catch(() => {});
  const change = (command) =>
    live.send({ ...command, conversation: id }).catch((err) => setError(err.message));

  if (!detail) {
    return html`<section class="conversation"><p class="placeholder">${error ?? "Loading…"}</p></section>`;
  }
  const open = detail.status !== "closed";
  const speaks = mine && mine.mode !== "monitor" && open;
  const supervises = me.role === "supervisor" || me.role === "admin";
  const pending = pendingInvitations(stream.events);
  // Linking is offered while the conversation is open; who may link is the core's rule
  // (Room::may_link), and a refusal shows in the form with its reason.
  const actions = speaks
    ? {
        onReact: (seq, emoji, add) => change({ type: add ? "react" : "unreact", seq, emoji }),
        onEdit: (seq, body) => change({ type: "edit", seq, body }),
        onDelete: (seq) => change({ type: "delete", seq }),
        onQuote: (message) => setQuoting(quoteOf(message, name)),
      }
    : {};
  return html`
    <section class="conversation" aria-labelledby="conversation-title">
      <header>
        <h1 id="conversation-title">${detail.customer_name || "Visitor"}</h1>
        <span class="status ${detail.status}">${detail.status}</span>
        <div class="actions" role="toolbar" aria-label="Conversation">
          ${detail.status === "waiting" && !mine && html`<button onClick=${() => act({ type: "pick_up" }, true)}>Pick up</button>`}
          ${open && !mine && supervises && html`<button class="secondary" onClick=${() => act({ type: "monitor" }, true)}>Monitor</button>`}
          ${speaks && html`<button onClick=${() => setDialog("invite")}>Invite…</button>`}
          ${speaks && html`<button class="secondary" onClick=${() => setDialog("close")}>Close as solved…</button>`}
          ${mine && open && html`<button class="secondary" onClick=${() => act({ type: "leave" })}>Leave</button>`}
          ${!open && html`<button onClick=${() => act({ type: "reopen" }, true)}>Reopen</button>`}
        </div>
      </header>
      <aside class="participants" aria-label="In this conversation">
        <h2>In this conversation</h2>
        <ul>
          ${detail.participants.map(
            (p) => html`<li>${name({ kind: "staff", id: p.user })} <span class="mode">${p.mode}</span>
              ${speaks && p.mode === "participant" && p.user !== me.id &&
              html`<button class="link" onClick=${() => act({ type: "transfer", to: p.user })}>Make lead</button>`}</li>`,
          )}
        </ul>
        ${pending.length > 0 &&
        html`<h2>Invited</h2>
          <ul class="pending">
            ${pending.map(
              (i) => html`<li>${invitee(i.target, name)} <span class="mode">${i.mode}, waiting for an answer</span></li>`,
            )}
          </ul>`}
        <${Links} links=${detail.links ?? []}
          onLink=${open && ((form) => live.send({ type: "link", conversation: id, ...form }).then(refresh))}
          onUnlink=${open && ((l) => act({ type: "unlink", system: l.system, record: l.id }))} />
        <${ContactPanel} contact=${detail.customer} current=${id} />
      </aside>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${dialog === "close" &&
      html`<${CloseForm}
        onCancel=${() => setDialog(null)}
        onClose=${async (resolution) => {
          await live.send({ type: "close", conversation: id, resolution });
          setDialog(null);
          await refresh();
        }} />`}
      <${Transcript} events=${stream.events} older=${stream.older} label="Transcript"
        onOlder=${() => stream.loadOlder().then(meet)} typing=${typing && name(typing)}
        draw=${(item) => {
          if (isMessage(item)) {
            return html`<${MessageItem} message=${item} author=${name(item.author)}
              avatar=${avatars.get(`${item.author.kind}:${item.author.id}`)} me=${me}
              quoted=${item.quote && name(item.quote.author)} ...${actions} />`;
          }
          const text = notice(item, (user) => name({ kind: "staff", id: user }));
          return text && html`<li class="notice">${text}</li>`;
        }} />
      ${speaks
        ? html`<${Composer} kinds onSend=${post} onTyping=${typed} stream=${`/api/conversations/${id}`}
            people=${people} canned=${canned} quoting=${quoting} onUnquote=${() => setQuoting(null)} />`
        : mine?.mode === "monitor" && html`<p class="monitoring">You are monitoring: the customer and the team do not see you.</p>`}
      ${dialog === "invite" &&
      html`<${InviteDialog} conversation=${id} people=${people} live=${live} onClose=${() => setDialog(null)} />`}
    </section>`;
}
