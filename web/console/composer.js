// The composer, for conversations and team channels alike.

import { html, useRef, useState } from "/assets/vendor/preact-htm.js";
import { upload } from "/assets/console/api.js";

/** What a member writes: text and files, and in a conversation (`kinds`) a Reply or a
 *  Note, which Ctrl/Cmd+Shift+N switches. Enter sends, Shift+Enter starts a new line. */
export function Composer({ onSend, onTyping, stream, kinds, label }) {
  const [kind, setKind] = useState(kinds ? "reply" : "message");
  const [error, setError] = useState(null);
  const [files, setFiles] = useState([]);
  const text = useRef(null);
  const picker = useRef(null);
  const typedAt = useRef(0);
  const send = async () => {
    const body = text.current.value;
    if (!body.trim() && files.length === 0) return;
    try {
      const attachments = [];
      for (const file of files) attachments.push((await upload(stream, file)).id);
      await onSend(kind, body, attachments);
      text.current.value = "";
      picker.current.value = "";
      setFiles([]);
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  };
  const keys = (e) => {
    if (kinds && (e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === "n") {
      e.preventDefault();
      setKind((k) => (k === "reply" ? "note" : "reply"));
    } else if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    } else if (kind !== "note" && onTyping && Date.now() - typedAt.current > 2000) {
      // A note is typed for staff only: nobody hears of it. Others hear at most every 2 s.
      typedAt.current = Date.now();
      onTyping();
    }
  };
  return html`
    <form class="composer ${kind}" onSubmit=${(e) => (e.preventDefault(), send())}>
      ${kinds &&
      html`<div class="kinds" role="group" aria-label="Write a">
        <button type="button" aria-pressed=${kind === "reply"} onClick=${() => setKind("reply")}>Reply</button>
        <button type="button" aria-pressed=${kind === "note"} onClick=${() => setKind("note")}>Note</button>
        <span class="hint">Ctrl+Shift+N switches</span>
      </div>`}
      <label class="sr-only" for="compose">${
        kind === "reply" ? "Reply to the customer" : kind === "note" ? "Internal note, never shown to the customer" : label
      }</label>
      <textarea id="compose" ref=${text} onKeyDown=${keys} rows="3"
        placeholder=${kind === "reply" ? "Reply to the customer…" : kind === "note" ? "Internal note: only staff see it…" : label}></textarea>
      <div class="send">
        <label class="attach">Attach files
          <input type="file" multiple ref=${picker} onChange=${(e) => setFiles([...e.target.files])} />
        </label>
        ${files.length > 0 && html`<span class="muted">${files.map((f) => f.name).join(", ")}</span>`}
        <button type="submit">Send</button>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>`;
}

