// Small SVG bar charts for the console: no library, no network. Each bar carries a <title> tooltip.
const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/**
 * Draws grouped or stacked bars into `container`.
 * @param {HTMLElement} container
 * @param {{ labels: string[], series: { name: string, cls: string, values: number[] }[], stacked?: boolean,
 *           format?: (n: number) => string, labelEvery?: number, max?: number, empty?: boolean }} spec
 *        `max` fixes the axis maximum (e.g. 100 for percentages); `empty` says whether to show
 *        "No data yet" (by default: when every value is 0).
 */
export function barChart(container, spec) {
  const width = 560;
  const height = 220;
  const pad = { left: 52, right: 10, top: 12, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const format = spec.format ?? ((n) => String(n));
  const n = spec.labels.length;
  const totals = spec.labels.map((_, i) =>
    spec.stacked
      ? spec.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)
      : Math.max(0, ...spec.series.map((s) => s.values[i] ?? 0)),
  );
  const max = spec.max ?? niceMax(Math.max(0, ...totals));
  const svg = el('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img' });
  svg.append(el('line', { class: 'axis', x1: pad.left, y1: pad.top + plotH, x2: width - pad.right, y2: pad.top + plotH }));
  for (const f of [0, 0.5, 1]) {
    const y = pad.top + plotH - f * plotH;
    svg.append(el('line', { class: 'axis', x1: pad.left, y1: y, x2: width - pad.right, y2: y }));
    svg.append(el('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end' }, format(max * f)));
  }
  const slot = plotW / Math.max(n, 1);
  const groups = spec.stacked ? 1 : spec.series.length;
  const barW = Math.max(1, (slot * 0.8) / groups);
  spec.labels.forEach((label, i) => {
    let base = 0;
    spec.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const h = (v / max) * plotH;
      const x = pad.left + i * slot + slot * 0.1 + (spec.stacked ? 0 : j * barW);
      const y = pad.top + plotH - h - (spec.stacked ? base : 0);
      if (spec.stacked) base += h;
      if (v > 0) {
        const rect = el('rect', { class: `bar ${s.cls}`, x, y, width: barW, height: h, 'data-value': v });
        rect.append(el('title', {}, `${label}: ${s.name} ${format(v)}`));
        svg.append(rect);
      }
    });
    if (i % (spec.labelEvery ?? 1) === 0) {
      svg.append(el('text', { x: pad.left + i * slot + slot / 2, y: height - 14, 'text-anchor': 'middle' }, label));
    }
  });
  if (spec.empty ?? totals.every((t) => t === 0)) {
    svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' }, 'No data yet'));
  }
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const s of spec.series) {
    const swatch = document.createElement('i');
    swatch.className = s.cls;
    legend.append(swatch, document.createTextNode(s.name));
  }
  container.replaceChildren(svg, legend);
}
