// DOM helpers shared by the console's pages: every server text goes in with textContent, never as markup.

export function cell(text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text ?? '';
  return td;
}

export function badge(platform) {
  const td = document.createElement('td');
  const span = document.createElement('span');
  span.className = `badge ${platform}`;
  span.textContent = platform;
  td.append(span);
  return td;
}

export function button(label, className, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}
