import { Allow, parse } from 'partial-json';
import { createGrounder, type FigureSource } from './grounding.js';

/**
 * Follows one string field of a JSON object while a model writes it: fed the JSON text so far after
 * every delta, it calls `onDelta` with what is new in that field, and `onEnd` once the field's closing
 * quote has arrived (so its last sentence need not wait for the rest of the object). Lets the
 * synthesis, which must be structured, still show its prose as it is written.
 */
export function streamedField(
  field: string,
  onDelta: (text: string) => void,
  onEnd: () => void = () => {},
): (jsonSoFar: string) => void {
  let shown = 0;
  let ended = false;
  const read = (json: string, allow: number) => (parse(json, allow) as Record<string, unknown> | undefined)?.[field];
  return (jsonSoFar) => {
    if (ended) return;
    let value: unknown;
    try {
      value = read(jsonSoFar, Allow.ALL);
    } catch {
      return; // not yet an object (a code fence, leading chatter): wait for more
    }
    if (typeof value !== 'string') return;
    if (value.length > shown) {
      onDelta(value.slice(shown));
      shown = value.length;
    }
    // Without Allow.STR an unfinished string is left out: the field is there only once it is closed.
    if (typeof read(jsonSoFar, Allow.ALL & ~Allow.STR) === 'string') {
      ended = true;
      onEnd();
    }
  };
}

/**
 * The justification of a structured answer shown as the model writes it, grounded sentence by sentence
 * (a sentence with a figure `source` does not hold is never shown): `onPartial` goes to the model
 * call, `end()` flushes the last sentence once the call returns. `show` receives each grounded piece.
 */
export function groundedJustification(source: FigureSource, show: (text: string) => void): { onPartial: (json: string) => void; end: () => void } {
  const grounder = createGrounder(source);
  const emit = (text: string) => {
    if (text) show(text);
  };
  const end = () => emit(grounder.end());
  return { onPartial: streamedField('detailed_justification', (delta) => emit(grounder.push(delta)), end), end };
}
