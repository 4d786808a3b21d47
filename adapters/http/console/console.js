// The operator console: plain DOM, every server text inserted with textContent (chat content is untrusted).
import { barChart } from './charts.js';
import { badge, button, cell } from './dom.js';
import { drawFeedback, runsTable, votes } from './feedback.js';

const $ = (selector) => document.querySelector(selector);
const KEY_STORAGE = 'movebot-console-key';
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';

class AuthError extends Error {}

async function api(path, options = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  const res = await fetch(path, { ...options, headers });
  if (res.status === 401) throw new AuthError('The key was not accepted.');
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  }
  return res.status === 204 ? null : res.json();
}

const when = (seconds) => new Date(seconds * 1000).toLocaleString();
const userLabel = (u) => (u ? (u.display_name ?? u.user_id) : '—');
// ---- Sessions -------------------------------------------------------------------------------------

async function loadSessions() {
  const platform = $('#session-platform').value;
  const query = new URLSearchParams({ limit: '100' });
  if (platform) query.set('platform', platform);
  const { data, meta } = await api(`/sessions?${query}`);
  $('#sessions-count').textContent = `${meta.total_count} session${meta.total_count === 1 ? '' : 's'}`;
  const rows = data.map((s) => {
    const tr = document.createElement('tr');
    tr.className = 'clickable';
    tr.dataset.sessionId = s.session_id;
    tr.append(badge(s.platform), cell(userLabel(s.user)), cell(s.session_name), cell(when(s.updated_at)));
    tr.addEventListener('click', () => openSession(s.session_id, tr).catch(showError));
    return tr;
  });
  $('#sessions-table tbody').replaceChildren(...rows);
}

async function openSession(id, row) {
  for (const tr of document.querySelectorAll('#sessions-table tr.selected')) tr.classList.remove('selected');
  row?.classList.add('selected');
  const [s, runs] = await Promise.all([
    api(`/sessions/${encodeURIComponent(id)}`),
    api(`/console/api/sessions/${encodeURIComponent(id)}/runs`),
  ]);
  const byReply = new Map(runs.data.filter((r) => r.reply_message_id).map((r) => [r.reply_message_id, r]));
  const title = document.createElement('h2');
  title.textContent = s.session_name;
  const meta = document.createElement('p');
  meta.className = 'muted';
  meta.textContent = `${s.platform} · ${userLabel(s.user)} · ${s.runs} run${s.runs === 1 ? '' : 's'} · ${s.thread_key}`;
  const messages = s.messages.map((m) => {
    const div = document.createElement('div');
    div.className = `msg ${m.role}`;
    div.dataset.messageId = m.id;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = m.role === 'user' ? (m.author_name ?? 'user') : `movebot${m.kind ? ` (${m.kind})` : ''}`;
    const run = byReply.get(m.id);
    if (run && run.up + run.down > 0) who.append(' ', votes(run));
    div.append(who, document.createTextNode(m.content));
    return div;
  });
  $('#conversation').replaceChildren(title, meta, ...messages, ...runsTable(runs.data));
}

// ---- Memories -------------------------------------------------------------------------------------

async function loadUsers() {
  const { data } = await api('/console/api/users?limit=200');
  const rows = data.map((u) => {
    const tr = document.createElement('tr');
    tr.className = 'clickable';
    tr.dataset.userId = u.user_id;
    tr.append(badge(u.platform), cell(u.display_name ?? u.user_id), cell(String(u.sessions)), cell(String(u.memories)));
    tr.addEventListener('click', () => openMemories(u, tr).catch(showError));
    return tr;
  });
  $('#users-table tbody').replaceChildren(...rows);
}

async function openMemories(user, row) {
  for (const tr of document.querySelectorAll('#users-table tr.selected')) tr.classList.remove('selected');
  row?.classList.add('selected');
  const query = new URLSearchParams({ user_id: user.user_id, platform: user.platform, workspace: user.workspace, limit: '100' });
  const { data } = await api(`/memories?${query}`);
  const title = document.createElement('h2');
  title.textContent = `What movebot remembers about ${user.display_name ?? user.user_id}`;
  const items = data.map((m) => {
    const div = document.createElement('div');
    div.className = 'memory';
    div.dataset.memoryId = m.memory_id;
    const text = document.createElement('span');
    text.textContent = `${m.memory} (${m.topics.join(', ')})`;
    const del = button('Delete', 'delete', async () => {
      await api(`/memories/${m.memory_id}?${query}`, { method: 'DELETE' });
      await openMemories(user, row);
      await loadUsers();
    });
    div.append(text, del);
    return div;
  });
  const empty = document.createElement('p');
  empty.className = 'muted';
  empty.textContent = 'No memories.';
  $('#memories').replaceChildren(title, ...(items.length ? items : [empty]));
}

// ---- Queue ----------------------------------------------------------------------------------------

async function loadQueue() {
  const q = await api('/console/api/queue');
  if (!q.available) {
    $('#queue-counts').replaceChildren();
    $('#failed-table tbody').replaceChildren();
    $('#queue-note').textContent = q.reason;
    return;
  }
  const cards = ['waiting', 'active', 'delayed', 'failed', 'completed'].map((state) => {
    const div = document.createElement('div');
    div.className = 'count';
    div.dataset.state = state;
    const n = document.createElement('b');
    n.textContent = String(q.counts[state] ?? 0);
    div.append(n, document.createTextNode(state));
    return div;
  });
  $('#queue-counts').replaceChildren(...cards);
  const rows = q.failed.map((job) => {
    const tr = document.createElement('tr');
    tr.dataset.jobId = job.id;
    const action = document.createElement('td');
    if (q.can_retry) {
      action.append(
        button('Retry', 'retry', async () => {
          await api(`/console/api/queue/jobs/${encodeURIComponent(job.id)}/retry`, { method: 'POST' });
          await loadQueue();
        }),
      );
    }
    tr.append(cell(job.id), badge(job.platform), cell(job.user), cell(job.text), cell(job.failed_reason), cell(String(job.attempts)), action);
    return tr;
  });
  $('#failed-table tbody').replaceChildren(...rows);
  $('#queue-note').textContent = rows.length ? '' : 'No failed jobs.';
}

// ---- Metrics --------------------------------------------------------------------------------------

async function loadMetrics() {
  const [stats, feedback] = await Promise.all([api('/console/api/stats?days=7'), api('/console/api/feedback?days=7')]);
  drawFeedback(feedback, (sessionId) => openFromFeedback(sessionId).catch(showError));
  const now = new Date(stats.now);
  const hours = [];
  for (let i = 47; i >= 0; i--) {
    const h = new Date(now);
    h.setUTCMinutes(0, 0, 0);
    h.setUTCHours(h.getUTCHours() - i);
    hours.push(h.toISOString().replace('.000Z', 'Z'));
  }
  const byHour = new Map(stats.runs_per_hour.map((r) => [r.hour, r]));
  barChart($('#chart-runs'), {
    labels: hours.map((h) => `${h.slice(11, 13)}h`),
    stacked: true,
    labelEvery: 6,
    series: [
      { name: 'completed', cls: 'completed', values: hours.map((h) => byHour.get(h)?.completed ?? 0) },
      { name: 'failed', cls: 'failed', values: hours.map((h) => byHour.get(h)?.failed ?? 0) },
    ],
  });
  const days = [];
  for (let i = stats.days - 1; i >= 0; i--) days.push(new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10));
  const latency = new Map(stats.latency_per_day.map((d) => [d.day, d]));
  const usage = new Map(stats.usage_per_day.map((d) => [d.day, d]));
  const labels = days.map((d) => d.slice(5));
  const seconds = (n) => (n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));
  barChart($('#chart-latency'), {
    labels,
    format: seconds,
    series: [
      { name: 'p50', cls: 'p50', values: days.map((d) => (latency.get(d)?.p50Ms ?? 0) / 1000) },
      { name: 'p95', cls: 'p95', values: days.map((d) => (latency.get(d)?.p95Ms ?? 0) / 1000) },
    ],
  });
  barChart($('#chart-tokens'), {
    labels,
    format: (n) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k` : String(Math.round(n))),
    series: [{ name: 'tokens', cls: 'tokens', values: days.map((d) => usage.get(d)?.tokens ?? 0) }],
  });
  barChart($('#chart-cost'), {
    labels,
    format: (n) => (n === 0 ? '$0' : n < 0.01 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`),
    series: [{ name: 'estimated cost', cls: 'cost', values: days.map((d) => usage.get(d)?.costUsd ?? 0) }],
  });
}

/** From a voted run to its conversation on the Sessions tab. */
async function openFromFeedback(sessionId) {
  $('#session-platform').value = '';
  await showTab('sessions');
  const row = [...document.querySelectorAll('#sessions-table tbody tr')].find((tr) => tr.dataset.sessionId === sessionId);
  await openSession(sessionId, row);
}

// ---- Shell ----------------------------------------------------------------------------------------

const loaders = { sessions: loadSessions, memories: loadUsers, queue: loadQueue, metrics: loadMetrics };

async function showTab(name) {
  for (const b of document.querySelectorAll('#tabs [data-tab]')) b.classList.toggle('active', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.panel')) p.hidden = p.id !== `panel-${name}`;
  await loaders[name]();
}

function showError(err) {
  if (err instanceof AuthError) return logout(err.message);
  const note = document.createElement('p');
  note.className = 'error';
  note.textContent = `Error: ${err.message}`;
  document.querySelector('.panel:not([hidden])')?.prepend(note);
}

function logout(message) {
  apiKey = '';
  sessionStorage.removeItem(KEY_STORAGE);
  $('#tabs').hidden = true;
  for (const p of document.querySelectorAll('.panel')) p.hidden = true;
  $('#login').hidden = false;
  $('#login-error').hidden = !message;
  $('#login-error').textContent = message ?? '';
}

async function login(key) {
  apiKey = key;
  await api('/config');
  sessionStorage.setItem(KEY_STORAGE, key);
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  await showTab('sessions');
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  login($('#api-key').value.trim()).catch((err) => logout(err.message));
});
$('#logout').addEventListener('click', () => logout());
for (const b of document.querySelectorAll('#tabs [data-tab]')) {
  b.addEventListener('click', () => showTab(b.dataset.tab).catch(showError));
}
$('#session-platform').addEventListener('change', () => loadSessions().catch(showError));
if (apiKey) login(apiKey).catch((err) => logout(err.message));
