// What every kind of room shows the same way: its events folded into a thread (each
// message with its latest text, reactions and "(edited)", tombstones for deleted ones),
// and a message with its reactions and its author's own actions.

import { html, useEffect, useLayoutEffect, useRef, useState } from "/assets/vendor/preact-htm.js";
import { fileUrl } from "/assets/console/api.js";
import { clock, day } from "/assets/console/format.js";

/** A file on a message: an image shown, anything else a link that downloads it. */
function Attachment({ file }) {
  const [url, setUrl] = useState(null);
  const image = file.content_type.startsWith("image/");
  useEffect(() => {
    if (!image) return;
    let made = null;
    fileUrl(file.id).then((u) => setUrl((made = u))).catch(() => {});
    return () => made && URL.revokeObjectURL(made);
  }, [file.id]);
  const download = async (e) => {
    e.preventDefault();
    const link = document.createElement("a");
    link.href = await fileUrl(file.id);
    link.download = file.name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  };
  if (image) {
    return html`<img class="attachment" alt=${file.name} src=${url ?? ""}
      width=${file.width} height=${file.height} />`;
  }
  return html`<a class="attachment" href="#" onClick=${download}>${file.name}</a>`;
}

const MESSAGE_KINDS = ["reply", "note", "message"];

/** The events of a room, oldest first, as items to show: messages (changed by the later
 *  `edited`, `deleted` and `reacted` events) and the other events as they are. */
export function fold(events) {
  const items = [];
  const messages = new Map();
  for (const event of events) {
    if (MESSAGE_KINDS.includes(event.kind)) {
      const message = { ...event, reactions: event.reactions ?? [] };
      messages.set(event.seq, message);
      items.push(message);
    } else if (event.kind === "edited") {
      const target = messages.get(event.target);
      if (target) Object.assign(target, { body: event.body, edited_at: event.at });
    } else if (event.kind === "deleted") {
      const target = messages.get(event.target);
      if (target) Object.assign(target, { body: "", deleted: true, reactions: [], attachments: [] });
    } else if (event.kind === "reacted") {
      const target = messages.get(event.target);
      if (target) target.reactions = event.reactions;
    } else {
      items.push(event);
    }
  }
  return items;
}

/** The items of `fold(events)`, each drawn by `draw` (null to leave it out), with a
 *  separator before the first item of each day. */
function withDays(events, draw) {
  const shown = [];
  let lastDay = null;
  for (const item of fold(events)) {
    const drawn = draw(item);
    if (!drawn) continue;
    const today = day(item.at);
    if (today !== lastDay) {
      shown.push(html`<li class="day" role="separator">${today}</li>`);
      lastDay = today;
    }
    shown.push(drawn);
  }
  return shown;
}

/** What the composer shows of a message being answered. */
export function quoteOf(message, name) {
  return { seq: message.seq, author: name(message.author), snippet: message.body.slice(0, 80) };
}

/** Whether `message` is a message (rather than another event). */
export function isMessage(item) {
  return MESSAGE_KINDS.includes(item.kind);
}

/** One message: author, time, the message it answers (by `quoted`), text, "(edited)",
 *  reactions; for its author Edit and Delete, a 👍 for whoever may react (`onReact`), and
 *  Quote for whoever may answer it (`onQuote`). */
export function MessageItem({ message, author, avatar, quoted, me, onReact, onEdit, onDelete, onQuote }) {
  const [editing, setEditing] = useState(false);
  const note = message.kind === "note";
  const own = message.author.kind === "staff" && message.author.id === me.id;
  const reacted = (emoji) =>
    message.reactions.find((r) => r.emoji === emoji)?.by.some((a) => a.kind === "staff" && a.id === me.id);
  const save = async (e) => {
    e.preventDefault();
    const body = new FormData(e.target).get("body");
    await onEdit(message.seq, body);
    setEditing(false);
  };
  return html`
    <li class="message ${message.kind} ${message.author.kind}" data-seq=${message.seq}>
      <div class="byline">
        ${avatar && html`<img class="avatar" src=${avatar} alt="" width="20" height="20" />`}
        <span class="author">${author}</span>
        ${note && html`<span class="badge" aria-label="Internal note">Note</span>`}
        <time datetime=${new Date(message.at).toISOString()}>${clock(message.at)}</time>
        ${message.edited_at && html`<span class="edited">(edited)</span>`}
      </div>
      ${message.quote &&
      html`<blockquote class="quote">
        <span class="author">${quoted}</span> ${message.quote.deleted ? html`<em>deleted message</em>` : message.quote.snippet}
      </blockquote>`}
      ${message.deleted
        ? html`<p class="body"><em>This message was deleted.</em></p>`
        : editing
          ? html`<form class="edit" onSubmit=${save}>
              <label class="sr-only" for=${`edit-${message.seq}`}>Edit your message</label>
              <textarea id=${`edit-${message.seq}`} name="body" rows="2">${message.body}</textarea>
              <div class="actions"><button type="submit">Save</button>
                <button type="button" class="secondary" onClick=${() => setEditing(false)}>Cancel</button></div>
            </form>`
          : html`<p class="body">${message.body}</p>`}
      ${!message.deleted && (message.attachments ?? []).map((file) => html`<${Attachment} file=${file} />`)}
      ${!message.deleted &&
      html`<div class="reactions">
        ${message.reactions.map(
          (r) => html`<span class="reaction" title=${`${r.count}`}>${r.emoji} ${r.count}</span>`,
        )}
        ${onReact && html`<button class="link react" aria-pressed=${!!reacted("👍")}
          aria-label=${reacted("👍") ? "Take your 👍 off" : "React with 👍"}
          onClick=${() => onReact(message.seq, "👍", !reacted("👍"))}>👍</button>`}
        ${onQuote && html`<button class="link quote" onClick=${() => onQuote(message)}>Quote</button>`}
        ${own && onEdit && !editing && html`<button class="link edit" onClick=${() => setEditing(true)}>Edit</button>`}
        ${own && onDelete && html`<button class="link delete" onClick=${() => onDelete(message.seq)}>Delete</button>`}
      </div>`}
    </li>`;
}

/** A room's thread: `events` drawn by `draw` with day separators, the newest at the
 *  bottom. Scrolling near the top (or the "Show older messages" button, for keyboards)
 *  calls `onOlder` while `older` is "more"; placeholders stand in while it is "loading".
 *  It follows the newest event as new ones come, and stays put as older ones go above. */
export function Transcript({ events, older, onOlder, draw, typing, label }) {
  const list = useRef(null);
  // How far the reader was from the bottom when older events were asked for.
  const fromBottom = useRef(null);
  const newest = events.at(-1)?.seq;
  const ask = () => {
    if (older !== "more") return;
    fromBottom.current = list.current.scrollHeight - list.current.scrollTop;
    onOlder();
  };
  // Before paint, so an older page never shows the reader a jump.
  useLayoutEffect(() => {
    const el = list.current;
    if (fromBottom.current !== null && older !== "loading") {
      el.scrollTop = el.scrollHeight - fromBottom.current;
      fromBottom.current = null;
    }
  }, [events.length, older]);
  useLayoutEffect(() => {
    list.current.scrollTop = list.current.scrollHeight;
  }, [newest, typing]);
  // A first page too short to scroll could never ask for more by scrolling.
  useEffect(() => {
    const el = list.current;
    if (older === "more" && el.scrollHeight <= el.clientHeight) ask();
  }, [older, events.length]);
  return html`
    <ol class="transcript" ref=${list} aria-label=${label} aria-live="polite"
      onScroll=${() => list.current.scrollTop < 120 && ask()}>
      ${older === "more" && html`<li class="older"><button class="link" onClick=${ask}>Show older messages</button></li>`}
      ${older === "loading" &&
      html`<li class="older" role="status"><span class="sr-only">Loading older messages…</span></li>
        ${[1, 2, 3].map(() => html`<li class="placeholder-message" aria-hidden="true"><span></span><span></span></li>`)}`}
      ${withDays(events, draw)}
      ${typing && html`<li class="typing" role="status">${typing} is typing…</li>`}
    </ol>`;
}
