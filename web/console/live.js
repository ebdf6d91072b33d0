// The WebSocket side: one connection for everything live. It answers each command's
// promise from its `ok` or `error`, hands frames to whoever listens for their type, and
// reconnects by itself: every stream followed is subscribed again from the last `seq`
// seen, and an event already seen is never passed on twice.

/** The connection's states, as the console shows them. */
export const CONNECTING = "connecting";
export const OPEN = "open";
export const RECONNECTING = "reconnecting";

/** A refused command: `code` is the server's stable code. */
export class CommandError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Which field names a frame's stream, and its id. */
function streamOf(frame) {
  if (frame.conversation) return `conversation:${frame.conversation}`;
  if (frame.channel) return `channel:${frame.channel}`;
  return null;
}

export class Live {
  constructor(token) {
    this.token = token;
    this.nextId = 1;
    this.waiting = new Map();
    this.listeners = new Map();
    /** For each stream followed: the last `seq` seen, and whether to subscribe again. */
    this.streams = new Map();
    this.state = CONNECTING;
    this.retry = 500;
    this.closed = false;
    this.connect();
  }

  /** Calls `listener(frame)` for every frame of `type` ("event" included); returns a
   *  function that stops it. */
  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, frame) {
    for (const listener of this.listeners.get(type) ?? []) listener(frame);
  }

  setState(state) {
    this.state = state;
    this.emit("state", { state });
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws?token=${encodeURIComponent(this.token)}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (close) => this.lost(socket, close);
  }

  lost(socket, close) {
    if (socket !== this.socket) return;
    for (const { reject } of this.waiting.values()) {
      reject(new CommandError("connection_lost", "The connection dropped: try again."));
    }
    this.waiting.clear();
    if (this.closed) return;
    if (close.code === 1008) {
      this.emit("signed_out", { reason: close.reason });
      return;
    }
    this.setState(RECONNECTING);
    setTimeout(() => this.connect(), this.retry);
    this.retry = Math.min(this.retry * 2, 5000);
  }

  receive(frame) {
    if (frame.type === "hello") {
      this.retry = 500;
      this.setState(OPEN);
      this.resubscribe();
      this.emit("hello", frame);
      return;
    }
    if (frame.type === "ok" || frame.type === "error") {
      // The command's own events come first, where their frames would have been.
      for (const event of frame.events ?? []) this.event(event);
      const waiting = this.waiting.get(frame.id);
      if (!waiting) return;
      this.waiting.delete(frame.id);
      if (frame.type === "ok") waiting.resolve(frame);
      else waiting.reject(new CommandError(frame.code, frame.message));
      return;
    }
    if (frame.type === "event") {
      this.event(frame);
      return;
    }
    if (frame.type === "resync") {
      const key = streamOf(frame);
      if (this.streams.has(key)) this.subscribe(key);
    }
    this.emit(frame.type, frame);
  }

  /** Passes an event on once: one at or below the stream's last `seq` was seen already. */
  event(event) {
    const key = streamOf(event);
    const followed = this.streams.get(key);
    if (followed) {
      if (event.seq <= followed.seq) return;
      followed.seq = event.seq;
    }
    this.emit("event", event);
  }

  /** Sends a command; resolves with its `ok`, rejects with a CommandError. */
  send(command) {
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      if (this.socket.readyState !== WebSocket.OPEN) {
        reject(new CommandError("not_connected", "Not connected yet: try again in a moment."));
        return;
      }
      this.waiting.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...command, id }));
    });
  }

  /** Follows a stream (`conversation:ID` or `channel:ID`) live from `seq` on: now, and
   *  again after every reconnect. */
  follow(key, seq) {
    const followed = this.streams.get(key);
    if (followed) {
      followed.seq = Math.max(followed.seq, seq);
      return Promise.resolve();
    }
    this.streams.set(key, { seq });
    return this.subscribe(key);
  }

  /** Stops following a stream (its events are no longer passed on as new). */
  unfollow(key) {
    this.streams.delete(key);
  }

  subscribe(key) {
    const [field, id] = key.split(":");
    const followed = this.streams.get(key);
    return this.send({ type: "subscribe", [field]: id, after_seq: followed.seq }).catch(() => {});
  }

  resubscribe() {
    for (const key of this.streams.keys()) this.subscribe(key);
  }

  /** Closes for good (signing out). */
  close() {
    this.closed = true;
    this.socket.close();
  }
}
