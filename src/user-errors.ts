import { errorCodeOf, MovebotError } from './errors.js';

/*
 * What users read when something fails: a short sentence and the error's code, never an address,
 * SQL, a stack trace or a library's message (`connect ECONNREFUSED 10.0.0.5:5432`). The details go to
 * the log, where the code finds them.
 */

const SENTENCES: Record<string, string> = {
  rate_limited: 'The AI service is busy right now (rate limited). Please try again in a minute.',
  llm_timeout: 'The AI service took too long to answer. Please try again.',
  llm_error: "I couldn't reach a usable answer from the AI service. Please try again shortly.",
  llm_bad_output: "I couldn't reach a usable answer from the AI service. Please try again shortly.",
  tool_error:
    "None of my data sources (NerdWallet, Reddit search) answered, so I can't give a grounded recommendation right now. Please try again later.",
  db_error: 'My storage is unavailable at the moment. Please try again shortly.',
  db_unavailable: "My storage is unavailable at the moment, so I couldn't answer. Please ask again in a few minutes.",
  turn_timeout: 'This answer was taking too long, so I stopped it. Please try again, or ask a narrower question.',
  run_cancelled: 'The answer was stopped.',
};

/** The failure of a whole turn, as the thread or the API client is told. */
export function userFacingError(err: unknown): string {
  const code = errorCodeOf(err);
  const sentence = SENTENCES[code] ?? 'Something went wrong while answering. Please try again.';
  return code === 'run_cancelled' ? sentence : `${sentence} (error code: ${code})`;
}

/** Why part of an answer is missing ("Reddit search failed (search_failed)"): what failed, and the code. */
export function unavailableReason(what: string, err: unknown): string {
  return `${what} (${errorCodeOf(err)})`;
}

/** Why an analyst could not contribute, in plain words, for the answer's "Unavailable: …" line. */
export function analystFailure(err: unknown): string {
  if (err instanceof MovebotError) {
    if (err.code === 'llm_timeout') return 'the analysis took too long';
    if (err.code === 'llm_bad_output') return 'the model returned an answer that could not be used';
    if (err.code === 'rate_limited') return 'the model service is rate limiting us';
    // Our own words about the user's cities are safe to show; anything else is told by its code.
    if (err.code === 'city_unknown' || err.code === 'city_ambiguous') return err.message;
  }
  return unavailableReason('the analysis failed', err);
}
