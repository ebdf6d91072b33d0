// What every kind of room shows the same way: its events folded into a thread (each
// message with its latest text, reactions and "(edited)", tombstones for deleted ones),
// and a message with its reactions and its author's own actions.

import { html, useEffect, useState } from "/assets/vendor/preact-htm.js";
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
export function withDays(events, draw) {
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

/** Whether `message` is a message (rather than another event). */
export function isMessage(item) {
  return MESSAGE_KINDS.includes(item.kind);
}

/** One message: author, time, text, "(edited)", reactions; for its author Edit and
 *  Delete, and a 👍 for whoever may react (`onReact`). */
export function MessageItem({ message, author, avatar, me, onReact, onEdit, onDelete }) {
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
        ${own && onEdit && !editing && html`<button class="link" onClick=${() => setEditing(true)}>Edit</button>`}
        ${own && onDelete && html`<button class="link" onClick=${() => onDelete(message.seq)}>Delete</button>`}
      </div>`}
    </li>`;
}
