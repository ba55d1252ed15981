// One reading of the API errors client-node throws (ApiException: `code` and a JSON string
// `body`; Watch: `statusCode`; network: no code at all).
import { STATUS_CODES } from 'node:http';

export function httpStatus(e: unknown): number | undefined {
  const err = e as { code?: unknown; statusCode?: unknown } | null;
  if (err && typeof err.code === 'number') return err.code;
  if (err && typeof err.statusCode === 'number') return err.statusCode;
  return undefined;
}

export interface StatusBody {
  reason?: string;
  message?: string;
  code?: number;
  details?: unknown;
}

export function statusBody(e: unknown): StatusBody | undefined {
  const body = (e as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return undefined;
    }
  }
  if (body && typeof body === 'object') return body as StatusBody;
  return undefined;
}

export const isNotFound = (e: unknown) => httpStatus(e) === 404;
/** 409: lost an optimistic-concurrency race, or the object already exists. */
export const isConflict = (e: unknown) => httpStatus(e) === 409;
export const isAlreadyExists = (e: unknown) => isConflict(e) && statusBody(e)?.reason === 'AlreadyExists';
/**
 * The API server refused the object itself (admission, validation, quota): retrying the same
 * write will not help until something changes.
 */
export const isRefused = (e: unknown) => [400, 403, 422].includes(httpStatus(e) ?? 0);

/** The server's own words for an error, for conditions and events. */
export function errorMessage(e: unknown): string {
  return statusBody(e)?.message ?? (e instanceof Error ? e.message : String(e));
}

/** What a log line says about an error: the HTTP code, the Status reason and message. */
export interface ApiErrorFields {
  code?: number;
  reason?: string;
  message: string;
}

/** Longest non-Status response body quoted in a log line. */
const MAX_BODY = 500;

/**
 * The fields of an error for a log line, never client-node's dump of it (an ApiException's
 * message is "HTTP-Code: 403 Message: Unknown API Status Code! Body: ..." with every header).
 * Log it nested, as `{ error: apiErrorFields(e) }`: winston appends a top-level `message`
 * field to the line's own message.
 */
export function apiErrorFields(e: unknown): ApiErrorFields {
  const status = statusBody(e);
  const code = httpStatus(e) ?? status?.code;
  const fields: Omit<ApiErrorFields, 'message'> = {};
  if (code !== undefined) fields.code = code;
  if (status?.reason) fields.reason = status.reason;
  return { ...fields, message: describe(e, status) };
}

/** client-node's ApiException, by shape (no import: this module stays light for the CLI). */
function apiException(e: unknown): { code: number; body?: unknown } | undefined {
  const x = e as { code?: unknown; body?: unknown; headers?: unknown } | null;
  return x instanceof Error && typeof x.code === 'number' && 'body' in x && 'headers' in x
    ? { code: x.code, body: x.body }
    : undefined;
}

function describe(e: unknown, status: StatusBody | undefined): string {
  if (typeof status?.message === 'string') return status.message;
  const api = apiException(e);
  if (api) {
    // An answer that is not a metav1.Status (a proxy's text or HTML), or none at all (401).
    const text = typeof api.body === 'string' ? api.body.trim() : '';
    return text ? text.slice(0, MAX_BODY) : (STATUS_CODES[api.code] ?? `HTTP ${api.code}`);
  }
  if (!(e instanceof Error)) return String(e);
  // fetch() says only "fetch failed"; what failed (ECONNREFUSED, a TLS error) is its cause.
  return e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
}
