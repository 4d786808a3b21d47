import { Allow, parse } from 'partial-json';

/**
 * Follows one string field of a JSON object while a model writes it: fed the JSON text so far after
 * every delta, it calls `onDelta` with what is new in that field. Lets the synthesis, which must be
 * structured, still show its prose as it is written.
 */
export function streamedField(field: string, onDelta: (text: string) => void): (jsonSoFar: string) => void {
  let shown = 0;
  return (jsonSoFar) => {
    let value: unknown;
    try {
      value = (parse(jsonSoFar, Allow.ALL) as Record<string, unknown> | undefined)?.[field];
    } catch {
      return; // not yet an object (a code fence, leading chatter): wait for more
    }
    if (typeof value !== 'string' || value.length <= shown) return;
    onDelta(value.slice(shown));
    shown = value.length;
  };
}
