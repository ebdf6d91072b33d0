// The customer's chat, inside the widget's iframe: a pre-chat form (name, optional
// email), then the thread with the agents' names, typing, attachments and suggested
// articles, and a composer. The chat is kept in this browser (its token), so a reload
// or a dropped network carries on from the last `seq`. It shows only what the server
// sends a customer: nothing is filtered here, so nothing can leak here.

import { html, render, useEffect, useRef, useState } from "/assets/vendor/preact-htm.js";
import { Live } from "/assets/console/live.js";
import { clock } from "/assets/console/format.js";
import { fold, isMessage } from "/assets/console/thread.js";

const team = new URLSearchParams(location.search).get("team") || "support";
const KEY = `conclave.chat.${team}`;

/** The chat kept in this browser: `{token, conversation, name}`, or null. */
const kept = {
  get: () => JSON.parse(localStorage.getItem(KEY) || "null"),
  set: (chat) => (chat ? localStorage.setItem(KEY, JSON.stringify(chat)) : localStorage.removeItem(KEY)),
};

async function request(method, path, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, body: body && JSON.stringify(body) });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(answer?.error?.message ?? "Something went wrong: try again.");
    error.status = response.status;
    throw error;
  }
  return answer;
}

/** Whether the page around the widget shows it, and the unread badge it shows on the
 *  bubble when it does not: agent messages after the customer's read marker. While the
 *  chat is open, what arrives is marked read. */
/** Uploads `file` for a message of `conversation`; resolves with the attachment. */
async function attach(conversation, token, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch(`/api/conversations/${conversation}/attachments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  }).catch(() => null);
  const answer = await response?.json().catch(() => null);
  if (!response?.ok) throw new Error(answer?.error?.message ?? "The file could not be sent: try again.");
  return answer;
}

function useUnread(markRead) {
  const open = useRef(false);
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    const listen = (e) => {
      if (e.source !== parent || !e.data?.conclave) return;
      open.current = e.data.conclave === "open";
      if (open.current) {
        setUnread(0);
        markRead();
      }
    };
    addEventListener("message", listen);
    // Whether the chat is open now: the page may have said so before this listened.
    if (parent !== window) parent.postMessage({ conclave: "ready" }, "*");
    return () => removeEventListener("message", listen);
  }, []);
  useEffect(() => {
    if (parent !== window) parent.postMessage({ conclave: "unread", count: unread }, "*");
  }, [unread]);
  return {
    /** An agent's message arrived. */
    arrived: () => (open.current ? markRead() : setUnread((n) => n + 1)),
    /** What was unread when the chat was loaded. */
    loaded: (count) => !open.current && setUnread(count),
  };
}

function PreChat({ onStart }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    setBusy(true);
    try {
      const email = form.get("email").trim();
      const chat = await request("POST", "/api/chats", null, {
        team,
        display_name: form.get("name").trim(),
        ...(email ? { email } : {}),
      });
      onStart({ token: chat.token, conversation: chat.conversation, name: form.get("name").trim() });
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return html`
    <form class="prechat" onSubmit=${submit}>
      <h1>Chat with us</h1>
      <p>We usually answer within a few minutes.</p>
      <label>Your name <input name="name" required autocomplete="name" /></label>
      <label>Email (optional) <input name="email" type="email" autocomplete="email" /></label>
      <button type="submit" disabled=${busy}>Start chat</button>
      <p class="error" role="alert">${error ?? ""}</p>
    </form>`;
}

function Thread({ chat, onEnd }) {
  const [live] = useState(() => new Live(chat.token));
  const [events, setEvents] = useState([]);
  const [names, setNames] = useState(new Map());
  const [typing, setTyping] = useState(null);
  const [error, setError] = useState(null);
  const [conversation, setConversation] = useState(chat.conversation);
  const [files, setFiles] = useState([]);
  const [avatars, setAvatars] = useState(new Map());
  const seen = useRef(new Map());
  const text = useRef(null);
  const picker = useRef(null);
  const end = useRef(null);
  const lastTyping = useRef(0);
  const last = useRef({ conversation: chat.conversation, seq: 0 });
  const markRead = () =>
    last.current.seq &&
    live.send({ type: "read", conversation: last.current.conversation, seq: last.current.seq }).catch(() => {});
  const unread = useUnread(markRead);
  const add = (list) => {
    for (const event of list) {
      seen.current.set(`${event.conversation}:${event.seq}`, event);
      if (event.conversation === last.current.conversation) {
        last.current.seq = Math.max(last.current.seq, event.seq);
      }
    }
    setEvents([...seen.current.values()]);
  };

  useEffect(() => {
    const stops = [
      live.on("event", (event) => {
        if (event.kind === "joined") {
          setNames((n) => new Map(n).set(event.user, event.name));
          if (event.avatar_url) setAvatars((a) => new Map(a).set(event.user, event.avatar_url));
        }
        add([event]);
        if (isMessage(event) && event.author.kind === "staff") {
          unread.arrived();
          setTyping(null);
        }
      }),
      live.on("typing", (frame) => {
        if (frame.author.kind !== "staff") return;
        setTyping(frame.author.id);
        setTimeout(() => setTyping((t) => (t === frame.author.id ? null : t)), 4000);
      }),
      // Writing after the chat closed started a new one: follow it from its start.
      live.on("conversation_started", (frame) => {
        kept.set({ ...chat, conversation: frame.conversation });
        last.current = { conversation: frame.conversation, seq: 0 };
        setConversation(frame.conversation);
        live.follow(`conversation:${frame.conversation}`, 0);
      }),
      live.on("signed_out", onEnd),
    ];
    request("GET", `/api/conversations/${chat.conversation}/events?limit=1000`, chat.token)
      .then((page) => {
        const staff = page.people.filter((p) => p.kind === "staff");
        setNames(new Map(staff.map((p) => [p.id, p.name])));
        setAvatars(new Map(staff.filter((p) => p.avatar_url).map((p) => [p.id, p.avatar_url])));
        add(page.events);
        live.follow(`conversation:${chat.conversation}`, page.events.at(-1)?.seq ?? 0);
        return request("GET", `/api/conversations/${chat.conversation}`, chat.token);
      })
      .then((detail) => detail && unread.loaded(detail.unread))
      .catch((err) => (err.status === 401 || err.status === 404 ? onEnd() : setError(err.message)));
    return () => {
      stops.forEach((stop) => stop());
      live.close();
    };
  }, []);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [events.length, typing]);

  const thread = events.filter((e) => e.conversation === conversation).sort((a, b) => a.seq - b.seq);
  const closed = thread.some((e) => e.kind === "closed") &&
    thread.findLast((e) => e.kind === "closed" || e.kind === "reopened")?.kind === "closed";
  const name = (author) =>
    author.kind === "customer" ? "You" : author.kind === "system" ? "" : names.get(author.id) ?? "Support";
  const send = async (e) => {
    e?.preventDefault();
    const body = text.current.value;
    if (!body.trim() && files.length === 0) return;
    try {
      const attachments = [];
      for (const file of files) attachments.push((await attach(conversation, chat.token, file)).id);
      await live.send({ type: "post", conversation, body, attachments, client_id: crypto.randomUUID() });
      text.current.value = "";
      picker.current.value = "";
      setFiles([]);
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  };
  const keys = (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      send();
    } else if (Date.now() - lastTyping.current > 2000) {
      lastTyping.current = Date.now();
      live.send({ type: "typing", conversation }).catch(() => {});
    }
  };
  const items = fold(thread).map((item) => {
    if (isMessage(item)) {
      return html`
        <li class="message ${item.author.kind}" data-seq=${item.seq}>
          <span class="author">
            ${avatars.get(item.author.id) && html`<img class="avatar" src=${avatars.get(item.author.id)} alt="" width="18" height="18" />`}
            ${name(item.author)}</span>
          <p class="body">${item.deleted ? html`<em>This message was deleted.</em>` : item.body}</p>
          ${(item.attachments ?? []).map((a) => {
            const href = `/api/attachments/${a.id}?token=${encodeURIComponent(chat.token)}`;
            return a.content_type.startsWith("image/")
              ? html`<a class="file" href=${href}><img src=${href} alt=${a.name} width=${a.width} height=${a.height} /></a>`
              : html`<a class="file" href=${href}>${a.name}</a>`;
          })}
          <span class="meta">${clock(item.at)}${item.edited_at ? " (edited)" : ""}</span>
        </li>`;
    }
    if (item.kind === "joined") return html`<li class="notice">${item.name} joined the chat</li>`;
    if (item.kind === "left") return html`<li class="notice">${names.get(item.user) ?? "An agent"} left the chat</li>`;
    if (item.kind === "suggested") {
      return html`
        <li class="suggested">
          <span>While you wait, these may help:</span>
          <ul>${item.articles.map((a) => html`<li><a href=${a.url} target="_blank" rel="noopener noreferrer">${a.title}</a></li>`)}</ul>
        </li>`;
    }
    if (item.kind === "closed") return html`<li class="notice ended">This chat has ended.</li>`;
    return null;
  });
  return html`
    <section class="thread" aria-label="Chat">
      <ol class="messages" aria-live="polite">${items}<li ref=${end} class="end"></li></ol>
      ${typing && html`<p class="typing" role="status">${names.get(typing) ?? "Support"} is typing…</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${closed
        ? html`<button class="again" onClick=${onEnd}>Start a new chat</button>`
        : html`<form class="composer" onSubmit=${send}>
            <label class="sr-only" for="say">Your message</label>
            <textarea id="say" ref=${text} rows="2" placeholder="Write a message…" onKeyDown=${keys}></textarea>
            <label class="attach" title="Attach a file"><svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"
                  fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" /></svg><span class="sr-only">Attach a file</span>
              <input type="file" multiple ref=${picker} onChange=${(e) => setFiles([...e.target.files])} /></label>
            <button type="submit">Send</button>
          </form>
          ${files.length > 0 && html`<p class="files">${files.map((f) => f.name).join(", ")}</p>`}`}
    </section>`;
}

function Widget() {
  const [chat, setChat] = useState(kept.get());
  const start = (started) => {
    kept.set(started);
    setChat(started);
  };
  const end = () => {
    kept.set(null);
    setChat(null);
  };
  return chat
    ? html`<${Thread} key=${chat.token} chat=${chat} onEnd=${end} />`
    : html`<${PreChat} onStart=${start} />`;
}

const root = document.getElementById("chat");
root.textContent = "";
render(html`<${Widget} />`, root);
