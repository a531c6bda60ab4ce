import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import {
  ApiError,
  SERVER_EXTENSION_MISSING,
  ServerExtensionMissingError,
  errorFromResponse,
  errorText,
  requestAPI
} from '../src/api';
import { ContainerClient } from '../src/client';

interface ISeen {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

/** Settings whose fetch answers with `answer` and records each request. */
function settingsAnswering(
  answer: (request: Request) => Response | Promise<Response>
) {
  const seen: ISeen[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/user/ann/',
    wsUrl: 'ws://127.0.0.1:8888/user/ann/',
    token: 'secret-token',
    appendToken: true,
    fetch: async (input: RequestInfo, init?: RequestInit) => {
      const request =
        input instanceof Request ? input : new Request(input, init);
      seen.push({
        // makeRequest adds a cache buster (`?<ms>` or `&<ms>`); drop it.
        url: request.url.replace(/[?&]\d{10,}$/, ''),
        method: request.method,
        headers: request.headers,
        body: request.body ? await request.clone().text() : null
      });
      return answer(request);
    }
  });
  return { settings, seen };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });

describe('errorFromResponse', () => {
  it('carries the server error body', () => {
    const error = errorFromResponse(
      404,
      JSON.stringify({
        message:
          "ENOENT: no such file or directory, open '/workspace/missing.js'",
        reason: 'Not Found',
        code: 'ENOENT'
      })
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).not.toBeInstanceOf(ServerExtensionMissingError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('ENOENT');
    expect(error.reason).toBe('Not Found');
    expect(error.message).toContain("open '/workspace/missing.js'");
  });

  it('reads a 404 without our error body as a missing server extension', () => {
    const error = errorFromResponse(
      404,
      '<html><body>404 : Not Found</body></html>'
    );
    expect(error).toBeInstanceOf(ServerExtensionMissingError);
    expect(error.message).toBe(SERVER_EXTENSION_MISSING);
    expect(error.message).toContain('pip install jupyter-container-manager');
  });

  it('keeps a plain-text body short and drops HTML', () => {
    expect(errorFromResponse(502, 'Bad gateway').message).toBe(
      'Request failed with status 502: Bad gateway'
    );
    expect(errorFromResponse(500, '<html>oops</html>').message).toBe(
      'Request failed with status 500'
    );
  });
});

describe('requestAPI', () => {
  it('calls the route under base_url with the token and decodes JSON', async () => {
    const { settings, seen } = settingsAnswering(() =>
      json(200, [{ id: 'a' }])
    );
    const result = await requestAPI<{ id: string }[]>(
      'containers',
      {},
      { settings }
    );
    expect(result).toEqual([{ id: 'a' }]);
    expect(seen[0].url).toBe('http://127.0.0.1:8888/user/ann/containers');
    expect(seen[0].headers.get('Authorization')).toBe('token secret-token');
  });

  it('answers undefined for 204', async () => {
    const { settings } = settingsAnswering(
      () => new Response(null, { status: 204 })
    );
    await expect(
      requestAPI('containers/x', { method: 'DELETE' }, { settings })
    ).resolves.toBeUndefined();
  });

  it('throws the server error with status, reason and code', async () => {
    const { settings } = settingsAnswering(() =>
      json(503, {
        message:
          'The Docker engine is not reachable: start it with `bash .ci/engine.sh`',
        reason: 'Service Unavailable',
        code: 'ENGINE_UNAVAILABLE'
      })
    );
    const error = await requestAPI<never>('containers', {}, { settings }).catch(
      (e: ApiError) => e
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(503);
    expect(error.code).toBe('ENGINE_UNAVAILABLE');
    expect(error.message).toContain('.ci/engine.sh');
  });

  it('says the server extension is missing on a bare 404', async () => {
    const { settings } = settingsAnswering(
      () => new Response('<html>404 : Not Found</html>', { status: 404 })
    );
    await expect(
      requestAPI('containers', {}, { settings })
    ).rejects.toBeInstanceOf(ServerExtensionMissingError);
  });

  it('turns a network failure into an ApiError with status 0', async () => {
    const { settings } = settingsAnswering(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await requestAPI<never>('containers', {}, { settings }).catch(
      (e: ApiError) => e
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.message).toContain('Cannot reach the Jupyter server');
  });
});

describe('ContainerClient', () => {
  it('builds the WebContainer routes with encoded paths and bodies', async () => {
    const { settings, seen } = settingsAnswering(request =>
      request.method === 'GET'
        ? json(200, [])
        : new Response(null, { status: 204 })
    );
    const client = new ContainerClient(settings);
    const id = '6c1f0a52-0000-4000-8000-000000000001';
    await client.readdir(id, '/src/my dir');
    await client.writeText(id, '/src/a.js', 'hi');
    await client.rm(id, '/tmp dir', true);
    await client.rename(id, '/a', '/b');
    await client.containerAction(id, 'restart');
    expect(
      seen.map(s => `${s.method} ${s.url.replace(settings.baseUrl, '/')}`)
    ).toEqual([
      `GET /webcontainer/${id}/fs/readdir/src/my%20dir?withFileTypes=true`,
      `POST /webcontainer/${id}/fs/writeFile`,
      `DELETE /webcontainer/${id}/fs/rm?path=%2Ftmp%20dir&recursive=true&force=false`,
      `POST /webcontainer/${id}/fs/rename`,
      `POST /containers/${id}/restart`
    ]);
    expect(JSON.parse(seen[1].body!)).toEqual({
      path: '/src/a.js',
      contents: 'hi',
      encoding: 'utf-8'
    });
    expect(JSON.parse(seen[3].body!)).toEqual({ oldPath: '/a', newPath: '/b' });
    expect(client.writeUrl(id, '/up load.bin')).toBe(
      `http://127.0.0.1:8888/user/ann/webcontainer/${id}/fs/writeFile?path=%2Fup%20load.bin`
    );
    expect(client.absoluteUrl(`/user/ann/containers/${id}/proxy/3000/`)).toBe(
      `http://127.0.0.1:8888/user/ann/containers/${id}/proxy/3000/`
    );
  });
});

describe('ContainerClient file work through the WebContainer client', () => {
  const id = '6c1f0a52-0000-4000-8000-000000000002';

  it('answers ApiErrors with the server status, code and message', async () => {
    const { settings } = settingsAnswering(() =>
      json(404, {
        message: "ENOENT: no such file or directory, scandir '/workspace/gone'",
        reason: 'Not Found',
        code: 'ENOENT'
      })
    );
    const error = await new ContainerClient(settings)
      .readdir(id, '/gone')
      .catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(404);
    expect(error.code).toBe('ENOENT');
    expect(error.message).toBe(
      "ENOENT: no such file or directory, scandir '/workspace/gone'"
    );
  });

  it('keeps non-fs messages as the server wrote them', async () => {
    const { settings } = settingsAnswering(() =>
      json(409, {
        message: 'Container is stopped',
        reason: 'Conflict',
        code: 'ESTOPPED'
      })
    );
    const error = await new ContainerClient(settings)
      .mkdir(id, '/a')
      .catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([
      409,
      'ESTOPPED',
      'Container is stopped'
    ]);
  });

  it('maps readdir entries back to {name, type} and reads bytes', async () => {
    const { settings, seen } = settingsAnswering(request =>
      request.url.includes('readdir')
        ? json(200, [
            { name: 'd', type: 'directory' },
            { name: 'f', type: 'file' },
            { name: 'l', type: 'symlink' }
          ])
        : new Response(new Uint8Array([1, 2, 3]), { status: 200 })
    );
    const client = new ContainerClient(settings);
    expect(await client.readdir(id, '/')).toEqual([
      { name: 'd', type: 'directory' },
      { name: 'f', type: 'file' },
      { name: 'l', type: 'symlink' }
    ]);
    const bytes = await client.readBytes(id, '/f');
    expect(Array.from(new Uint8Array(bytes))).toEqual([1, 2, 3]);
    // Through ServerConnection: the token header is on every request.
    expect(
      seen.every(s => s.headers.get('Authorization') === 'token secret-token')
    ).toBe(true);
    expect(client.webcontainer(id)).toBe(client.webcontainer(id));
  });
});

describe('ContainerClient file work without the server extension', () => {
  it('says the server extension is missing on a bare 404', async () => {
    const { settings } = settingsAnswering(
      () => new Response('<html>404: Not Found</html>', { status: 404 })
    );
    const error = await new ContainerClient(settings)
      .readText('6c1f0a52-0000-4000-8000-000000000003', '/a.txt')
      .catch(e => e);
    expect(error).toBeInstanceOf(ServerExtensionMissingError);
    expect(error.message).toBe(SERVER_EXTENSION_MISSING);
  });

  it('keeps the reason of an answer with our error body', async () => {
    const { settings } = settingsAnswering(() =>
      json(404, {
        message: 'No container x',
        reason: 'Not Found',
        code: 'ENOCONTAINER'
      })
    );
    const error = await new ContainerClient(settings)
      .readText('x', '/a')
      .catch(e => e);
    expect(error).not.toBeInstanceOf(ServerExtensionMissingError);
    expect([error.status, error.reason, error.code, error.message]).toEqual([
      404,
      'Not Found',
      'ENOCONTAINER',
      'No container x'
    ]);
  });
});

describe('errorText', () => {
  /** A translation bundle that marks what it translated. */
  const marking = {
    __: (text: string, ...args: unknown[]) =>
      '«' +
      text.replace(/%(\d+)/g, (_, n: string) => String(args[Number(n) - 1])) +
      '»'
  } as any;

  it('translates the errors the front end makes itself', async () => {
    expect(errorText(marking, new ServerExtensionMissingError())).toBe(
      `«${SERVER_EXTENSION_MISSING}»`
    );
    const { settings } = settingsAnswering(() => {
      throw new TypeError('Failed to fetch');
    });
    const offline = await requestAPI<never>(
      'containers',
      {},
      { settings }
    ).catch((e: ApiError) => e);
    expect(errorText(marking, offline)).toBe(
      '«Cannot reach the Jupyter server: Failed to fetch»'
    );
    expect(
      errorText(
        marking,
        new ApiError('Upload cancelled', 0, 'Cancelled', 'ECANCELED')
      )
    ).toBe('«Upload cancelled»');
  });

  it("shows the server's own message as it wrote it", () => {
    const error = errorFromResponse(
      404,
      JSON.stringify({
        message: 'No container x',
        reason: 'Not Found',
        code: 'ENOCONTAINER'
      })
    );
    expect(errorText(marking, error)).toBe('No container x');
    expect(errorText(marking, 'plain')).toBe('plain');
  });
});
