// One reading of the errors the API client throws: KubeApiError (an answer that was not 2xx:
// its HTTP status and the metav1.Status it carried, if any) and transport errors (no code;
// what failed underneath, ECONNREFUSED or a TLS error, is their `cause`).
import { STATUS_CODES } from 'node:http';

export interface StatusBody {
  reason?: string;
  message?: string;
  code?: number;
  details?: unknown;
}

/** Longest non-Status response body quoted in an error message. */
const MAX_BODY = 500;

/** The server answered, but not with 2xx. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** The metav1.Status of the answer, if it was one. */
  readonly status: StatusBody | undefined;
  constructor(
    /** The HTTP status. */
    readonly code: number,
    /** The response body as text. */
    readonly body: string,
    readonly request: string,
  ) {
    const status = parseStatus(body);
    const text = body.trim().slice(0, MAX_BODY);
    // An answer that is not a metav1.Status (a proxy's text or HTML) is quoted; none at all (401) is named.
    super(status?.message ?? (text || STATUS_CODES[code] || `HTTP ${code}`));
    this.status = status;
  }
}

/** No answer: the request could not be sent or the connection failed; `cause` says why. */
export class KubeRequestError extends Error {
  override readonly name = 'KubeRequestError';
  /** The request went out on a pooled socket the server had already closed: safe to send again. */
  readonly reusedSocketClosed: boolean;

  constructor(message: string, o: { cause?: unknown; reusedSocketClosed?: boolean } = {}) {
    super(message, { cause: o.cause });
    this.reusedSocketClosed = o.reusedSocketClosed ?? false;
  }
}

function parseStatus(body: string): StatusBody | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    const o = JSON.parse(body) as StatusBody & { kind?: string };
    return o && typeof o === 'object' && (o.kind === 'Status' || typeof o.message === 'string') ? o : undefined;
  } catch {
    return undefined;
  }
}

/** The HTTP status of an error: a KubeApiError's, or any error's numeric `code` (test doubles). */
export function httpStatus(e: unknown): number | undefined {
  const err = e as { code?: unknown } | null;
  if (err && typeof err.code === 'number') return err.code;
  return undefined;
}

export function statusBody(e: unknown): StatusBody | undefined {
  return e instanceof KubeApiError ? e.status : undefined;
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
  return describe(e);
}

/** What a log line says about an error: the HTTP code, the Status reason and message. */
export interface ApiErrorFields {
  code?: number;
  reason?: string;
  message: string;
}

/**
 * The fields of an error for a log line: code, reason and message, never a dump of the
 * response. Log it nested, as `{ error: apiErrorFields(e) }`: winston appends a top-level
 * `message` field to the line's own message.
 */
export function apiErrorFields(e: unknown): ApiErrorFields {
  const status = statusBody(e);
  const code = httpStatus(e) ?? status?.code;
  const fields: Omit<ApiErrorFields, 'message'> = {};
  if (code !== undefined) fields.code = code;
  if (status?.reason) fields.reason = status.reason;
  return { ...fields, message: describe(e) };
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // A transport error says which request failed; what failed (ECONNREFUSED, a TLS error) is its cause.
  return e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
}
