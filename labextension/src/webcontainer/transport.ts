/**
 * How the client reaches the server: `fetch` for the REST routes and a
 * WebSocket for `/container`, configured by `{ serverUrl, token }`. The
 * JupyterLab panel injects its own transport (ServerConnection's fetch, which
 * adds the token and the XSRF header, and its shared sockets).
 */
import { ContainerSocket, IWebSocketLike } from './socket';
import { SUBPROTOCOL, SUBPROTOCOLS } from './protocol.generated';

export interface ITransport {
  /**
   * Call a route under the server's base URL, credentials attached.
   *
   * @param endpoint a path under base_url without leading slash,
   *   e.g. `webcontainer/boot`
   */
  fetch(endpoint: string, init?: RequestInit): Promise<Response>;
  /** The `/container` socket of a container (not yet connected). */
  socket(containerId: string): ContainerSocket;
  /** An absolute URL for a URL path the server answered (preview URLs). */
  resolveUrl(path: string): string;
  /**
   * Called when a WebContainer no longer needs the socket it got from
   * `socket()`; closes it by default. A transport that shares sockets
   * (the panel's pool) may keep it.
   */
  releaseSocket?(socket: ContainerSocket): void;
}

export interface ITransportOptions {
  /**
   * The Jupyter server's URL with its base_url, e.g.
   * `http://127.0.0.1:8888/` or `https://hub.example/user/ann/`.
   * Default: the page's origin (`/`).
   */
  serverUrl?: string;
  /**
   * A Jupyter token: sent as `Authorization: token ...` on fetches (made
   * with `credentials: 'omit'`) and offered as a subprotocol on the socket
   * (`base64url.bearer.authorization.jupyter-container-manager.<token>`),
   * so it is in no URL and never becomes a Jupyter login cookie. Without it
   * the browser's Jupyter login cookie is used (the page must then be on the
   * Jupyter origin), with the `_xsrf` cookie sent back as `X-XSRFToken` on
   * writes.
   */
  token?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Opens a WebSocket (default: `new WebSocket(url, protocols)`). */
  webSocket?: (url: string, protocols?: string[]) => IWebSocketLike;
}

/** The subprotocol of the protocol version this client speaks. */
export const SOCKET_PROTOCOL = SUBPROTOCOL;
/**
 * The versioned subprotocols offered on every connect, highest first; the
 * server answers with the highest version it speaks among those offered.
 */
export const SOCKET_PROTOCOLS: readonly string[] = SUBPROTOCOLS;
/** The prefix of the subprotocol that carries a token (base64url after it). */
export const TOKEN_PROTOCOL_PREFIX =
  'base64url.bearer.authorization.jupyter-container-manager.';

/**
 * The subprotocols to offer: the protocol versions, and the one that
 * authenticates the socket with `token` (when there is one).
 */
export function socketProtocols(token?: string): string[] {
  if (!token) {
    return [...SOCKET_PROTOCOLS];
  }
  const bytes = new TextEncoder().encode(token);
  let binary = '';
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  const encoded = btoa(binary)
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return [...SOCKET_PROTOCOLS, TOKEN_PROTOCOL_PREFIX + encoded];
}

/** The server URL with exactly one trailing slash. */
export function normalizeServerUrl(serverUrl?: string): string {
  let base = serverUrl;
  if (!base) {
    const location = (globalThis as any).location;
    if (!location) {
      throw new Error('serverUrl is required outside a browser page');
    }
    base = `${location.origin}/`;
  } else {
    const location = (globalThis as any).location;
    base = new URL(base, location ? location.href : undefined).href;
  }
  return base.endsWith('/') ? base : base + '/';
}

/** The URL of a REST endpoint under the server URL. */
export function endpointUrl(serverUrl: string, endpoint: string): string {
  return normalizeServerUrl(serverUrl) + endpoint.replace(/^\/+/, '');
}

/**
 * The `/container` WebSocket URL of a server (ws: or wss:). A `token` is
 * appended as `?token=` (for clients that cannot offer subprotocols; the
 * browser client offers it as one, see socketProtocols).
 */
export function socketUrl(serverUrl: string, token?: string): string {
  const url = new URL('container', normalizeServerUrl(serverUrl));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) {
    url.searchParams.set('token', token);
  }
  return url.href;
}

/** The value of a cookie of the page, if any. */
export function readCookie(name: string, cookies?: string): string | undefined {
  const source =
    cookies ?? ((globalThis as any).document?.cookie as string | undefined);
  if (!source) {
    return undefined;
  }
  for (const part of source.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      return decodeURIComponent(rest.join('='));
    }
  }
  return undefined;
}

/** The default transport: plain `fetch` and `WebSocket`. */
export function createTransport(options: ITransportOptions = {}): ITransport {
  const serverUrl = normalizeServerUrl(options.serverUrl);
  const token = options.token;
  const doFetch: typeof fetch =
    options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return {
    fetch(endpoint: string, init: RequestInit = {}): Promise<Response> {
      const headers = new Headers(init.headers ?? {});
      if (token) {
        headers.set('Authorization', `token ${token}`);
      } else {
        const xsrf = readCookie('_xsrf');
        if (xsrf && !headers.has('X-XSRFToken')) {
          headers.set('X-XSRFToken', xsrf);
        }
      }
      return doFetch(endpointUrl(serverUrl, endpoint), {
        // With a token, no cookie goes out or comes back: Jupyter answers a
        // token-authenticated request with its login cookie otherwise.
        credentials: token ? 'omit' : 'same-origin',
        ...init,
        headers
      });
    },
    socket(containerId: string): ContainerSocket {
      return new ContainerSocket(containerId, {
        url: () => socketUrl(serverUrl),
        protocols: socketProtocols(token),
        factory: options.webSocket
      });
    },
    resolveUrl(path: string): string {
      return new URL(path, serverUrl).href;
    }
  };
}
