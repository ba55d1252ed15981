// One reading of the API errors client-node throws (ApiException: `code` and a JSON string
// `body`; Watch: `statusCode`; network: no code at all).

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
/** The API server refused the object itself (admission, validation, quota): retrying the same write will not help until something changes. */
export const isRefused = (e: unknown) => [400, 403, 422].includes(httpStatus(e) ?? 0);

/** The server's own words for an error, for conditions and events. */
export function errorMessage(e: unknown): string {
  return statusBody(e)?.message ?? (e instanceof Error ? e.message : String(e));
}
