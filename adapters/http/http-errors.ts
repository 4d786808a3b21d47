import type { NextFunction, Request, Response } from 'express';
import { describeError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

/**
 * Every API error body: a stable code for programs and a sentence for people. Never a stack trace.
 * `detail` repeats the sentence because that is the field Agno clients (the Agent UI) show.
 */
export interface ApiErrorBody {
  error: string;
  message: string;
  detail: string;
}

export function errorBody(error: string, message: string): ApiErrorBody {
  return { error, message, detail: message };
}

export function sendError(res: Response, status: number, error: string, message: string): void {
  if (res.headersSent) return;
  res.status(status).json(errorBody(error, message));
}

/**
 * The router's last word on thrown errors: body-parser and multer errors become 400/413 with JSON,
 * anything else a logged 500 whose body says nothing about internals.
 */
export function jsonErrorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = httpStatusOf(err);
    if (status === 413) return sendError(res, 413, 'payload_too_large', 'The request body is too large.');
    if (status === 404) return sendError(res, 404, 'not_found', 'No such file or endpoint.');
    if (status && status >= 400 && status < 500) {
      return sendError(res, status, 'bad_request', 'The request could not be read (malformed JSON, form or URL).');
    }
    // Multer reports limits with its own codes rather than an HTTP status.
    const code = (err as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('LIMIT_')) {
      return sendError(res, 400, 'bad_request', 'The form has too many or too large fields, or file uploads.');
    }
    logger.error({ err: describeError(err) }, 'API request failed');
    sendError(res, 500, 'internal', 'Something went wrong.');
  };
}

function httpStatusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; statusCode?: unknown } | undefined;
  const status = e?.status ?? e?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
