// The composer, for conversations and team channels alike.

import { html, useRef, useState } from "/assets/vendor/preact-htm.js";
import { upload } from "/assets/console/api.js";
import { suggestions } from "/assets/console/suggest.js";

/** What a member writes: text and files, and in a conversation (`kinds`) a Reply or a
 *  Note, which Ctrl/Cmd+Shift+N switches. Enter sends, Shift+Enter starts a new line.
 *  "@" offers colleagues to mention (`people`), "/" the team's canned responses
 *  (`canned`); `quoting` is the message being answered, which `onUnquote` lets go of. */
export function Composer({ onSend, onTyping, stream, kinds, label, people, canned, quoting, onUnquote }) {
  const [kind, setKind] = useState(kinds ? "reply" : "message");
  const [error, setError] = useState(null);
  const [files, setFiles] = useState([]);
  const [offer, setOffer] = useState(null);
  const [chosen, setChosen] = useState(0);
  const text = useRef(null);
  const picker = useRef(null);
  const typedAt = useRef(0);
  const send = async () => {
    const body = text.current.value;
    if (!body.trim() && files.length === 0) return;
    try {
      const attachments = [];
      for (const file of files) attachments.push((await upload(stream, file)).id);
      await onSend(kind, body, attachments, quoting?.seq);
      text.current.value = "";
      picker.current.value = "";
      setFiles([]);
      setError(null);
      onUnquote?.();
    } catch (err) {
      setError(err.message);
    }
  };
  const look = () => {
    const el = text.current;
    setOffer(suggestions(el.value, el.selectionStart, { people: [...(people?.values() ?? [])], canned }));
    setChosen(0);
  };
  const take = (item) => {
    const el = text.current;
    el.value = el.value.slice(0, offer.start) + item.insert + el.value.slice(offer.end);
    const caret = offer.start + item.insert.length;
    el.setSelectionRange(caret, caret);
    el.focus();
    setOffer(null);
  };
  const keys = (e) => {
    if (offer && ["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(e.key)) {
      e.preventDefault();
      if (e.key === "ArrowDown") setChosen((i) => (i + 1) % offer.items.length);
      else if (e.key === "ArrowUp") setChosen((i) => (i + offer.items.length - 1) % offer.items.length);
      else if (e.key === "Escape") setOffer(null);
      else take(offer.items[chosen]);
    } else if (kinds && (e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === "n") {
      e.preventDefault();
      setKind((k) => (k === "reply" ? "note" : "reply"));
    } else if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    } else if (e.key === "Escape" && quoting) {
      onUnquote();
    } else if (kind !== "note" && onTyping && Date.now() - typedAt.current > 2000) {
      // A note is typed for staff only: nobody hears of it. Others hear at most every 2 s.
      typedAt.current = Date.now();
      onTyping();
    }
  };
  const what =
    kind === "reply" ? "Reply to the customer" : kind === "note" ? "Internal note, never shown to the customer" : label;
  return html`
    <form class="composer ${kind}" onSubmit=${(e) => (e.preventDefault(), send())}>
      ${kinds &&
      html`<div class="kinds" role="group" aria-label="Write a">
        <button type="button" aria-pressed=${kind === "reply"} onClick=${() => setKind("reply")}>Reply</button>
        <button type="button" aria-pressed=${kind === "note"} onClick=${() => setKind("note")}>Note</button>
        <span class="hint">Ctrl+Shift+N switches${canned?.length ? ", / for canned responses" : ""}, @ mentions</span>
      </div>`}
      ${quoting &&
      html`<div class="quoting">
        <span>Answering ${quoting.author}: <q>${quoting.snippet}</q></span>
        <button type="button" class="link" aria-label="Stop quoting" onClick=${onUnquote}>✕</button>
      </div>`}
      <label class="sr-only" for="compose">${what}</label>
      <textarea id="compose" ref=${text} onKeyDown=${keys} onInput=${look} onBlur=${() => setTimeout(() => setOffer(null), 150)}
        rows="3" role="combobox" aria-autocomplete="list" aria-expanded=${!!offer} aria-controls="compose-suggestions"
        aria-activedescendant=${offer ? `suggestion-${chosen}` : null}
        placeholder=${kind === "reply" ? "Reply to the customer…" : kind === "note" ? "Internal note: only staff see it…" : label}></textarea>
      ${offer &&
      html`<ul class="suggestions" id="compose-suggestions" role="listbox" aria-label="Suggestions">
        ${offer.items.map(
          (item, i) => html`<li id=${`suggestion-${i}`} role="option" aria-selected=${i === chosen}
            onMouseDown=${(e) => (e.preventDefault(), take(item))}>
            <strong>${item.label}</strong> <span class="muted">${item.hint}</span></li>`,
        )}
      </ul>`}
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
