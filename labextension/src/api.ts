/**
 * The one REST helper of the front end: `requestAPI<T>` over
 * `ServerConnection.makeRequest`, which adds the token and the XSRF header.
 * Every failure becomes an `ApiError` that carries the server's
 * `{message, reason, code}`.
 */
import { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import {
  failedRequestMessage,
  isErrorBody,
  parseErrorBody
} from './webcontainer/errors';
import type { IErrorBody } from './webcontainer/errors';

export { isErrorBody };
export type { IErrorBody };

/** An error answered by the server (or the lack of one), with its status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string | null = null,
    readonly code: string | null = null
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The Jupyter server answers, but without the container-manager routes. */
export class ServerExtensionMissingError extends ApiError {
  constructor(status = 404) {
    super(SERVER_EXTENSION_MISSING, status, 'Not Found', 'EXTENSION_MISSING');
    this.name = 'ServerExtensionMissingError';
  }
}

export const SERVER_EXTENSION_MISSING =
  'The jupyter-container-manager server extension is not installed or not ' +
  'enabled on this Jupyter server. Install it with `pip install ' +
  'jupyter-container-manager`, check `jupyter server extension list`, ' +
  'then restart Jupyter.';

/** The start of the message of a request that reached no server. */
const NETWORK_ERROR = 'Cannot reach the Jupyter server: ';

/** How the body of a successful answer is read. */
export type ResponseType = 'json' | 'text' | 'blob' | 'arraybuffer';

export interface IRequestOptions {
  /** Server settings; JupyterLab's defaults when omitted. */
  settings?: ServerConnection.ISettings;
  /** How to read a successful body (`json` by default; 204 gives undefined). */
  responseType?: ResponseType;
}

/**
 * Turn a failed answer into an ApiError.
 *
 * A 404 that does not carry the server's JSON error body comes from Jupyter
 * itself, not from our handlers: the server extension is missing.
 */
export function errorFromResponse(status: number, bodyText: string): ApiError {
  const body = parseErrorBody(bodyText);
  if (body) {
    return new ApiError(
      body.message,
      status,
      body.reason ?? null,
      body.code ?? null
    );
  }
  if (status === 404) {
    return new ServerExtensionMissingError(status);
  }
  return new ApiError(failedRequestMessage(status, bodyText), status);
}

/** The URL of an endpoint (a path under base_url, no leading slash). */
export function apiUrl(
  endpoint: string,
  settings: ServerConnection.ISettings
): string {
  const base = settings.baseUrl.endsWith('/')
    ? settings.baseUrl
    : settings.baseUrl + '/';
  return base + endpoint.replace(/^\/+/, '');
}

/**
 * Call a route of the server extension.
 *
 * @param endpoint a path under base_url, e.g. `containers` or
 *   `webcontainer/<id>/fs/readdir/src?withFileTypes=true`
 * @param init the fetch options
 * @returns the decoded body; undefined for 204
 */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  options: IRequestOptions = {}
): Promise<T> {
  const settings = options.settings ?? ServerConnection.makeSettings();
  const url = apiUrl(endpoint, settings);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(
      NETWORK_ERROR + ((error as Error).message ?? error),
      0,
      'Network Error',
      'ENETWORK'
    );
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw errorFromResponse(response.status, text);
  }
  if (response.status === 204) {
    return undefined as T;
  }
  switch (options.responseType ?? 'json') {
    case 'text':
      return (await response.text()) as T;
    case 'blob':
      return (await response.blob()) as T;
    case 'arraybuffer':
      return (await response.arrayBuffer()) as T;
    default: {
      const text = await response.text();
      if (!text) {
        return undefined as T;
      }
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError(
          `The server answered ${response.status} with a body that is not JSON`,
          response.status
        );
      }
    }
  }
}

/** A user-facing message for any error thrown by the API layer or the socket. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (isErrorBody(error)) {
    return error.message;
  }
  return String(error);
}

/**
 * errorMessage in the user's language: the errors the front end makes itself
 * (no server, no server extension, a cancelled or failed upload) are
 * translated; the server's own messages are shown as it wrote them.
 */
export function errorText(trans: TranslationBundle, error: unknown): string {
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'EXTENSION_MISSING':
        return trans.__(
          'The jupyter-container-manager server extension is not installed or not enabled on this Jupyter server. Install it with `pip install jupyter-container-manager`, check `jupyter server extension list`, then restart Jupyter.'
        );
      case 'ECANCELED':
        return trans.__('Upload cancelled');
      case 'ENETWORK':
        return error.message.startsWith(NETWORK_ERROR)
          ? trans.__(
              'Cannot reach the Jupyter server: %1',
              error.message.slice(NETWORK_ERROR.length)
            )
          : trans.__('Upload failed: network error');
    }
  }
  return errorMessage(error);
}
