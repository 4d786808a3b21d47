import { describe, expect, it } from 'vitest';
import { streamedField } from '../src/team/streamed-field.js';

describe('streamedField', () => {
  it('passes on what is new in the field as the JSON grows, and says when the field is closed', () => {
    const seen: string[] = [];
    const feed = streamedField(
      'detailed_justification',
      (delta) => seen.push(delta),
      () => seen.push('<end>'),
    );
    const json = '{"recommendation":"move","detailed_justification":"Rent drops. Pay stays.","next_steps":["Visit"]}';
    // Fed the text so far after every 7 characters, as the model's deltas arrive.
    for (let i = 7; i < json.length + 7; i += 7) feed(json.slice(0, i));
    expect(seen.join('')).toBe('Rent drops. Pay stays.<end>');
    // The end is announced as soon as the closing quote is in, before the rest of the object.
    const closedAt = json.indexOf('stays."') + 'stays."'.length;
    const early: string[] = [];
    const feedEarly = streamedField('detailed_justification', () => {}, () => early.push('end'));
    feedEarly(json.slice(0, closedAt - 1));
    expect(early).toEqual([]);
    feedEarly(json.slice(0, closedAt));
    expect(early).toEqual(['end']);
  });
});
