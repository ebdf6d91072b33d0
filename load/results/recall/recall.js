// What a reaction costs on a message the conversation still holds in memory, and on one it
// has forgotten (older than --kept-messages) and must read back from the database first.
// One conversation, one agent; reactions on the newest message and on the first, alternated
// in one series; the time from sending `react`/`unreact` to its `ok` (which comes once the
// change is durable). Run beside a release server with an admin admin@example.com /
// admin-password (see run.sh). Uses the `ws` package of ../shared/bench/node-ws.
'use strict';
const WebSocket = require('ws');
const { performance } = require('perf_hooks');
const BASE = process.argv[2] || 'http://127.0.0.1:18600';
const ROUNDS = Number(process.argv[3] || 300);
const MESSAGES = Number(process.argv[4] || 1200);

async function call(method, path, token, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

function socket(token) {
  const ws = new WebSocket(`${BASE.replace(/^http/, 'ws')}/ws?token=${token}`);
  const waiting = new Map();
  let next = 1;
  ws.on('message', (data) => {
    const frame = JSON.parse(data);
    const done = frame.id !== undefined && waiting.get(frame.id);
    if (done && (frame.type === 'ok' || frame.type === 'error')) {
      waiting.delete(frame.id);
      done(frame);
    }
  });
  const ready = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const ask = (command) => new Promise((resolve) => {
    const id = next++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, ...command }));
  });
  return { ready, ask, close: () => ws.close() };
}

async function ok(ws, command) {
  const answer = await ws.ask(command);
  if (answer.type !== 'ok') throw new Error(`${JSON.stringify(command)}: ${JSON.stringify(answer)}`);
  return answer;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

(async () => {
  const admin = (await call('POST', '/api/login', null, { email: 'admin@example.com', password: 'admin-password' })).token;
  const team = (await call('POST', '/api/teams', admin, { name: `recall-${Date.now()}`, restricted: false })).id;
  const email = `alice-${Date.now()}@example.com`;
  await call('POST', '/api/users', admin, { email, password: 'password-123', display_name: 'Alice', role: 'agent', teams: [team], skills: [] });
  const alice = (await call('POST', '/api/login', null, { email, password: 'password-123' })).token;
  const chat = await call('POST', '/api/chats', null, { team, display_name: 'Customer' });
  const customer = socket(chat.token);
  const agent = socket(alice);
  await Promise.all([customer.ready, agent.ready]);
  const conversation = chat.conversation;
  await ok(customer, { type: 'subscribe' });
  await ok(agent, { type: 'pick_up', conversation });
  let first = null;
  let last = null;
  for (let i = 0; i < MESSAGES; i++) {
    const posted = await ok(customer, { type: 'post', body: `message ${i}` });
    first = first ?? posted.seq;
    last = posted.seq;
  }
  const times = { held: [], read_back: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, seq] of [['held', last], ['read_back', first]]) {
      for (const type of ['react', 'unreact']) {
        const start = performance.now();
        await ok(agent, { type, conversation, seq, emoji: '👍' });
        times[name].push(performance.now() - start);
      }
    }
  }
  const report = {};
  for (const [name, values] of Object.entries(times)) {
    report[name] = { commands: values.length, p50_ms: median(values), p90_ms: pct(values, 0.9), p99_ms: pct(values, 0.99) };
  }
  console.log(JSON.stringify({ messages: MESSAGES, rounds: ROUNDS, ...report }, null, 2));
  customer.close();
  agent.close();
  process.exit(0);
})().catch((error) => { console.error(error); process.exit(1); });
