/**
 * REST calls of one container's `/webcontainer/{id}/...` routes through a
 * transport; every failure is a Node-style error.
 */
import { errorFromBody, nodeError } from './errors';
import { ITransport } from './transport';

export type BodyType = 'json' | 'text' | 'bytes' | 'none';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Call an endpoint and decode its body; 204 gives undefined. */
export async function call<T>(
  transport: ITransport,
  endpoint: string,
  init: RequestInit = {},
  body: BodyType = 'json'
): Promise<T> {
  let response: Response;
  try {
    response = await transport.fetch(endpoint, init);
  } catch (error) {
    throw nodeError(
      `Cannot reach the Jupyter server: ${(error as Error)?.message ?? error}`,
      'ECONNREFUSED',
      0
    );
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw errorFromBody(response.status, text);
  }
  if (response.status === 204 || body === 'none') {
    return undefined as T;
  }
  if (body === 'text') {
    return (await response.text()) as T;
  }
  if (body === 'bytes') {
    return new Uint8Array(await response.arrayBuffer()) as T;
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** POST a JSON body. */
export function post<T>(
  transport: ITransport,
  endpoint: string,
  data: unknown
): Promise<T> {
  return call<T>(transport, endpoint, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(data ?? {})
  });
}

/** `webcontainer/<id>/<rest>` */
export function containerEndpoint(containerId: string, rest: string): string {
  return `webcontainer/${encodeURIComponent(containerId)}/${rest}`;
}

/** A query string from defined values (`?a=1&b=x`), '' when empty. */
export function query(params: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) {
      parts.push(
        `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
      );
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
