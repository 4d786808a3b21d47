// Feedback on answers (thumbs up / down): the metrics page's totals, share chart, per-day table and
// recent votes, and a session's runs with their votes. Text goes in with textContent only.
import { barChart } from './charts.js';
import { badge, cell } from './dom.js';

const $ = (selector) => document.querySelector(selector);
const whenIso = (iso) => (iso ? new Date(iso).toLocaleString() : '');
/** A share of thumbs up (0…1, or null without votes) as "67%" or "—". */
export const percent = (share) => (share === null || share === undefined ? '—' : `${Math.round(share * 100)}%`);

/** "2 up · 1 down" for a run's votes. */
export function votes(v) {
  const span = document.createElement('span');
  span.className = 'votes';
  span.dataset.up = String(v.up);
  span.dataset.down = String(v.down);
  span.title = 'Thumbs up / down in chat';
  span.textContent = `${v.up} up · ${v.down} down`;
  return span;
}

/** The session's runs with their thumbs up / down. */
export function runsTable(runs) {
  if (!runs.length) return [];
  const heading = document.createElement('h3');
  heading.textContent = 'Runs and feedback';
  const table = document.createElement('table');
  table.className = 'runs';
  const head = document.createElement('tr');
  for (const label of ['Started', 'Status', 'Question', 'Up', 'Down', 'Share up']) {
    const th = document.createElement('th');
    th.textContent = label;
    head.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const r of runs) {
    const tr = document.createElement('tr');
    tr.dataset.runId = r.run_id;
    tr.append(
      cell(whenIso(r.started_at)),
      cell(r.status),
      cell(r.input),
      cell(String(r.up), 'up'),
      cell(String(r.down), 'down'),
      cell(percent(r.share_up), 'share'),
    );
    tbody.append(tr);
  }
  table.append(thead, tbody);
  return [heading, table];
}

/** Draws `/console/api/feedback` into the metrics page; clicking a voted run calls `onOpen(sessionId)`. */
export function drawFeedback(f, onOpen) {
  const totals = [
    ['up', String(f.totals.up), 'thumbs up'],
    ['down', String(f.totals.down), 'thumbs down'],
    ['share', percent(f.totals.share_up), 'share up'],
  ].map(([kind, value, label]) => {
    const div = document.createElement('div');
    div.className = 'count';
    div.dataset.kind = kind;
    const n = document.createElement('b');
    n.textContent = value;
    div.append(n, document.createTextNode(label));
    return div;
  });
  $('#feedback-totals').replaceChildren(...totals);
  barChart($('#chart-feedback'), {
    labels: f.per_day.map((d) => d.day.slice(5)),
    max: 100,
    empty: f.per_day.every((d) => d.share_up === null),
    format: (n) => `${Math.round(n)}%`,
    series: [{ name: 'thumbs up', cls: 'share', values: f.per_day.map((d) => (d.share_up ?? 0) * 100) }],
  });
  const days = f.per_day.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.day = d.day;
    tr.append(cell(d.day), cell(String(d.up), 'up'), cell(String(d.down), 'down'), cell(percent(d.share_up), 'share'));
    return tr;
  });
  $('#feedback-days tbody').replaceChildren(...days.reverse());
  const recent = f.recent.map((r) => {
    const tr = document.createElement('tr');
    tr.className = 'clickable';
    tr.dataset.runId = r.run_id;
    tr.append(
      cell(r.run_id, 'mono'),
      badge(r.platform),
      cell(r.session_title ?? 'Untitled conversation'),
      cell(r.input),
      cell(String(r.up), 'up'),
      cell(String(r.down), 'down'),
      cell(whenIso(r.last_vote_at)),
    );
    tr.addEventListener('click', () => onOpen(r.session_id));
    return tr;
  });
  $('#feedback-runs tbody').replaceChildren(...recent);
  $('#feedback-note').textContent = recent.length ? '' : 'No votes yet.';
}
