// Team chat: my channels and direct messages on the left, with unread and mention badges
// (a muted channel shows no unread badge; a mention always counts), and the open one on
// the right, with its members, its messages and a composer. Every channel in the list is
// followed live, so the badges move as messages arrive.

import { html, useEffect, useRef, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";
import { nameOf } from "/assets/console/format.js";
import { isMessage, MessageItem, quoteOf, Transcript } from "/assets/console/thread.js";
import { useStream } from "/assets/console/stream.js";
import { Composer } from "/assets/console/composer.js";

/** A channel's name as listed: `# general`, `🔒 proj-014`, or a direct message's people. */
function label(channel) {
  if (channel.visibility === "direct") return channel.name;
  return `${channel.visibility === "private" ? "🔒" : "#"} ${channel.name}`;
}

function NewChannel({ onMade, onCancel }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      const made = await api("POST", "/api/channels", {
        name: form.get("name").trim(),
        visibility: form.get("private") ? "private" : "public",
      });
      onMade(made.id);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`
    <form class="new" onSubmit=${submit}>
      <label>Name <input name="name" required placeholder="proj-014" /></label>
      <label class="inline"><input type="checkbox" name="private" /> Private: only its members see it</label>
      <div class="actions"><button type="submit">Create</button>
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button></div>
      <p class="error" role="alert">${error ?? ""}</p>
    </form>`;
}

function NewDirect({ me, people, onMade, onCancel }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const user = new FormData(e.target).get("user");
    try {
      const opened = await api("POST", "/api/dms", { users: user ? [user] : [] });
      onMade(opened.id);
    } catch (err) {
      setError(err.message);
    }
  };
  const colleagues = [...people.values()].filter((p) => p.id !== me.id);
  return html`
    <form class="new" onSubmit=${submit}>
      <label>With
        <select name="user">
          <option value="">Myself (notes)</option>
          ${colleagues.map((p) => html`<option value=${p.id}>${p.display_name}</option>`)}
        </select>
      </label>
      <div class="actions"><button type="submit">Open</button>
        <button type="button" class="secondary" onClick=${onCancel}>Cancel</button></div>
      <p class="error" role="alert">${error ?? ""}</p>
    </form>`;
}

function Directory({ onJoin }) {
  const [entries, setEntries] = useState(null);
  useEffect(() => {
    api("GET", "/api/channels/directory").then(setEntries).catch(() => setEntries([]));
  }, []);
  if (!entries) return html`<p class="placeholder">Loading…</p>`;
  const open = entries.filter((c) => !c.member && c.visibility === "public");
  return html`
    <ul class="directory" aria-label="Channels you may join">
      ${open.length === 0 && html`<li class="placeholder">No other public channels.</li>`}
      ${open.map(
        (c) => html`<li># ${c.name} <span class="muted">${c.members} members</span>
          <button class="link" onClick=${() => onJoin(c.id)}>Open</button></li>`,
      )}
    </ul>`;
}

function ChannelView({ id, me, live, people, muted, onChanged }) {
  const [channel, setChannel] = useState(null);
  const [error, setError] = useState(null);
  const [quoting, setQuoting] = useState(null);
  const stream = useStream(`/api/channels/${id}`);
  const refresh = () => api("GET", `/api/channels/${id}`).then(setChannel);
  const read = (seq) => live.send({ type: "read", channel: id, seq }).then(onChanged, () => {});

  useEffect(() => {
    const stop = live.on("event", (event) => {
      if (event.channel !== id) return;
      stream.add([event]);
      read(event.seq);
      if (["joined", "left", "removed", "renamed", "archived", "unarchived"].includes(event.kind)) {
        refresh().catch(() => {});
      }
    });
    Promise.all([refresh(), stream.newest()])
      .then(([, page]) => {
        const last = page.events.at(-1)?.seq ?? 0;
        // Every channel I may read is followed live from what I have.
        live.follow(`channel:${id}`, last);
        read(last);
      })
      .catch((err) => setError(err.message));
    return stop;
  }, [id]);

  const act = (command) =>
    live.send({ ...command, channel: id }).catch((err) => setError(err.message));
  if (!channel) return html`<section class="channel"><p class="placeholder">${error ?? "Loading…"}</p></section>`;
  const member = channel.members.some((m) => m.user === me.id);
  const names = new Map(channel.members.map((m) => [m.user, m.name]));
  const name = (author) => names.get(author.id) ?? nameOf(people, author.id);
  const writable = member && !channel.archived;
  const draw = (item) => {
    if (isMessage(item)) {
      return html`<${MessageItem} message=${item} author=${name(item.author)} me=${me}
        onReact=${writable && ((seq, emoji, add) => act({ type: add ? "react" : "unreact", seq, emoji }))}
        onEdit=${writable && ((seq, body) => act({ type: "edit", seq, body }))}
        onDelete=${writable && ((seq) => act({ type: "delete", seq }))}
        onQuote=${writable && ((message) => setQuoting(quoteOf(message, name)))}
        quoted=${item.quote && name(item.quote.author)} />`;
    }
    return item.kind === "joined" && html`<li class="notice">${item.name} joined</li>`;
  };
  const mute = async (muted) => {
    await api("PUT", `/api/channels/${id}/mute`, { muted }).catch((err) => setError(err.message));
    onChanged();
  };
  return html`
    <section class="channel" aria-labelledby="channel-title">
      <header>
        <h1 id="channel-title">${channel.visibility === "direct" ? channel.name : label(channel)}</h1>
        ${channel.archived && html`<span class="status">archived</span>`}
        <div class="actions">
          ${!member && channel.visibility === "public" && html`<button onClick=${() => act({ type: "join" }).then(refresh)}>Join</button>`}
          ${member && html`<button class="secondary" aria-pressed=${muted} onClick=${() => mute(!muted)}>
            ${muted ? "Unmute" : "Mute"}</button>`}
        </div>
      </header>
      <aside class="members" aria-label="Members">
        <h2>Members (${channel.members.length})</h2>
        <ul>${channel.members.slice(0, 50).map((m) => html`<li>${m.name} <span class="mode ${m.availability}">${m.availability}</span></li>`)}</ul>
      </aside>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${Transcript} events=${stream.events} older=${stream.older} onOlder=${stream.loadOlder} draw=${draw} label="Messages" />
      ${writable
        ? html`<${Composer} stream=${`/api/channels/${id}`} label=${`Message ${label(channel)}`}
            onTyping=${() => live.send({ type: "typing", channel: id }).catch(() => {})}
            people=${people} quoting=${quoting} onUnquote=${() => setQuoting(null)}
            onSend=${(_, body, attachments, quote) =>
              live.send({ type: "post", channel: id, body, attachments, quote, client_id: crypto.randomUUID() })} />`
        : !member && html`<p class="muted">Join the channel to write in it.</p>`}
    </section>`;
}

export function TeamChat({ me, live, people, selected }) {
  const [listing, setListing] = useState(null);
  const [adding, setAdding] = useState(null);
  const pending = useRef(null);
  // At most one listing request per tenth of a second, however busy the channels.
  const load = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      api("GET", "/api/channels").then(setListing).catch(() => {});
    }, 100);
  };
  useEffect(() => {
    const stops = [
      live.on("channel_added", load),
      live.on("channel_removed", load),
      live.on("channel_deleted", load),
      live.on("channel_muted", load),
      live.on("read", (frame) => frame.channel && load()),
      live.on("event", (event) => event.channel && event.channel !== selected && isMessage(event) && load()),
    ];
    load();
    return () => stops.forEach((stop) => stop());
  }, [selected]);
  // Follow every channel listed from where I read it, so its badges move live (what came
  // since is passed on once, and counted by the listing, not here).
  useEffect(() => {
    for (const channel of listing?.channels ?? []) {
      live.follow(`channel:${channel.id}`, channel.last_read_seq);
    }
  }, [listing]);
  const open = (id) => {
    setAdding(null);
    location.hash = `#/messages/${id}`;
    load();
  };
  const mine = listing?.channels ?? [];
  const entry = (c) => html`
    <li class=${c.id === selected ? "selected" : ""}>
      <a href=${`#/messages/${c.id}`} aria-current=${c.id === selected ? "page" : null}>${label(c)}</a>
      ${!c.muted && c.unread > 0 && html`<span class="count" aria-label=${`${c.unread} unread`}>${c.unread}</span>`}
      ${c.mentions > 0 && html`<span class="count mention" aria-label=${`${c.mentions} mentions`}>@${c.mentions}</span>`}
      ${c.muted && html`<span class="muted" aria-label="muted">🔕</span>`}
    </li>`;
  return html`
    <section class="teamchat">
      <nav class="rooms" aria-label="Channels and direct messages">
        <h2>Channels</h2>
        <ul>${mine.filter((c) => c.visibility !== "direct").map(entry)}</ul>
        <div class="actions">
          <button class="link" onClick=${() => setAdding("channel")}>New channel</button>
          <button class="link" onClick=${() => setAdding("browse")}>Browse</button>
        </div>
        ${adding === "channel" && html`<${NewChannel} onMade=${open} onCancel=${() => setAdding(null)} />`}
        ${adding === "browse" && html`<${Directory} onJoin=${open} />`}
        <h2>Direct messages</h2>
        <ul>${mine.filter((c) => c.visibility === "direct").map(entry)}</ul>
        <button class="link" onClick=${() => setAdding("direct")}>New direct message</button>
        ${adding === "direct" && html`<${NewDirect} me=${me} people=${people} onMade=${open} onCancel=${() => setAdding(null)} />`}
      </nav>
      ${selected
        ? html`<${ChannelView} key=${selected} id=${selected} me=${me} live=${live} people=${people}
            muted=${!!mine.find((c) => c.id === selected)?.muted} onChanged=${load} />`
        : html`<p class="placeholder">Choose a channel or a direct message.</p>`}
    </section>`;
}
