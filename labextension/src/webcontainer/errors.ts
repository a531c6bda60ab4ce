/**
 * Node-style errors: what the server answers (`{message, reason, code}` over
 * REST, `{message, code}` over the socket) becomes an `Error` with `code`,
 * `errno`, `syscall` and `path`, its message starting with the code, as
 * Node's `fs` throws them (`ENOENT: no such file or directory, open '/a'`).
 */

/** The JSON error body every route of the server answers with. */
export interface IErrorBody {
  message: string;
  reason: string | null;
  code: string | null;
}

/** Is this value the server's error body? */
export function isErrorBody(value: unknown): value is IErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as IErrorBody).message === 'string'
  );
}

/** Node's (Linux) errno of the codes the server sends. */
export const ERRNO: Record<string, number> = {
  EPERM: -1,
  ENOENT: -2,
  ESRCH: -3,
  EIO: -5,
  EAGAIN: -11,
  EACCES: -13,
  EBUSY: -16,
  EEXIST: -17,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EFBIG: -27,
  ENOSPC: -28,
  ENAMETOOLONG: -36,
  ENOTEMPTY: -39,
  ELOOP: -40,
  ETIMEDOUT: -110,
  ECONNRESET: -104,
  ECONNREFUSED: -111
};

/** An error as Node throws it: `err.code === 'ENOENT'` and friends. */
export interface INodeError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
  dest?: string;
  /** The HTTP status of a REST answer (0: the server was not reached). */
  status?: number;
  /** The server's `reason`; undefined when the answer had no JSON error body. */
  reason?: string | null;
}

// `ENOENT: no such file or directory, open '/workspace/a.js'`
// `EXDEV: cross-device link not permitted, rename '/a' -> '/b'`
const NODE_MESSAGE =
  /^([A-Z][A-Z0-9_]*): [^,]*, (\w+) '([^']*)'(?: -> '([^']*)')?/;

/**
 * Build a Node-style error.
 *
 * @param message the server's message (the code is put in front if missing)
 * @param code a Node code (`ENOENT`) or a protocol code; falls back to
 *   `ERR_HTTP_<status>` for REST answers without one
 */
export function nodeError(
  message: string,
  code?: string | null,
  status?: number
): INodeError {
  const parsed = NODE_MESSAGE.exec(message);
  const finalCode =
    code ||
    (parsed ? parsed[1] : status !== undefined ? `ERR_HTTP_${status}` : 'EIO');
  const text = message.startsWith(finalCode)
    ? message
    : `${finalCode}: ${message}`;
  const error = new Error(text) as INodeError;
  error.code = finalCode;
  if (ERRNO[finalCode] !== undefined) {
    error.errno = ERRNO[finalCode];
  }
  if (parsed && parsed[1] === finalCode) {
    error.syscall = parsed[2];
    error.path = parsed[3];
    if (parsed[4] !== undefined) {
      error.dest = parsed[4];
    }
  }
  if (status !== undefined) {
    error.status = status;
  }
  return error;
}

/** The server's JSON error body in a failed answer's text, if it is one. */
export function parseErrorBody(bodyText: string): IErrorBody | undefined {
  let body: unknown = undefined;
  try {
    body = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    body = undefined;
  }
  return isErrorBody(body) ? body : undefined;
}

/** The message of a failed answer without the server's JSON error body. */
export function failedRequestMessage(status: number, bodyText: string): string {
  const text = bodyText.trim();
  const short = text && !text.startsWith('<') ? `: ${text.slice(0, 200)}` : '';
  return `Request failed with status ${status}${short}`;
}

/** A failed REST answer as a Node-style error. */
export function errorFromBody(status: number, bodyText: string): INodeError {
  const body = parseErrorBody(bodyText);
  if (body) {
    const error = nodeError(body.message, body.code, status);
    error.reason = body.reason ?? null;
    return error;
  }
  return nodeError(failedRequestMessage(status, bodyText), null, status);
}

/** Any error (a socket `error` reply, a network failure) as a Node-style error. */
export function toNodeError(error: unknown): INodeError {
  if (error instanceof Error && typeof (error as any).code === 'string') {
    const existing = error as INodeError;
    if (existing.message.startsWith(existing.code) && 'errno' in existing) {
      return existing;
    }
    const converted = nodeError(
      existing.message,
      existing.code,
      existing.status
    );
    return converted;
  }
  const message = error instanceof Error ? error.message : String(error);
  return nodeError(message, null);
}
