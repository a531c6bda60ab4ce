/**
 * The browser WebContainer client against a fake server at the transport
 * boundary: a recording fetch and FakeSockets. The real server is covered by
 * tests/ui/test_webcontainer_client.py.
 */
import { beforeEach, describe, expect, it } from 'vitest';

import {
  DirEnt,
  WebContainer,
  createTransport,
  endpointUrl,
  nodeError,
  SOCKET_PROTOCOL,
  TOKEN_PROTOCOL_PREFIX,
  socketProtocols,
  socketUrl,
  toNodeError
} from '../src/webcontainer';
import { errorFromBody } from '../src/webcontainer/errors';
import { watchEvent, watchedName } from '../src/webcontainer/fs';
import { readCookie } from '../src/webcontainer/transport';
import { socketFactory } from './fakes';

const ID = '3f0c0d6e-6a53-4c1b-9a51-2f1b1c2d3e4f';
const SERVER = 'http://127.0.0.1:8888/user/ann/';

interface ICall {
  url: string;
  method: string;
  headers: Headers;
  body: any;
  credentials?: RequestCredentials;
}

/** A fetch that records calls and answers from a queue (204 by default). */
function recordingFetch() {
  const calls: ICall[] = [];
  const answers: Response[] = [];
  const fetch = async (input: any, init: RequestInit = {}) => {
    calls.push({
      url: String(input),
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: init.body,
      credentials: init.credentials
    });
    return answers.shift() ?? new Response(null, { status: 204 });
  };
  const json = (status: number, body: unknown) =>
    answers.push(
      new Response(JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' }
      })
    );
  const text = (status: number, body: string) =>
    answers.push(new Response(body, { status }));
  return {
    calls,
    fetch: fetch as typeof globalThis.fetch,
    json,
    text,
    answers
  };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

async function readAll(stream: ReadableStream<string>): Promise<string> {
  let text = '';
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return text;
    }
    text += value;
  }
}

describe('Node-style errors', () => {
  it('parses code, errno, syscall and path from a server fs error', () => {
    const error = errorFromBody(
      404,
      JSON.stringify({
        message:
          "ENOENT: no such file or directory, open '/workspace/missing.js'",
        reason: 'Not Found',
        code: 'ENOENT'
      })
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ENOENT');
    expect(error.errno).toBe(-2);
    expect(error.syscall).toBe('open');
    expect(error.path).toBe('/workspace/missing.js');
    expect(error.status).toBe(404);
    expect(error.message).toBe(
      "ENOENT: no such file or directory, open '/workspace/missing.js'"
    );
  });

  it('puts the code in front of messages without one, and keeps rename destinations', () => {
    const conflict = nodeError('This socket runs 8 processes', 'EAGAIN');
    expect(conflict.message).toBe('EAGAIN: This socket runs 8 processes');
    expect(conflict.errno).toBe(-11);
    const rename = nodeError(
      "EXDEV: cross-device link not permitted, rename '/a' -> '/b'"
    );
    expect(rename.code).toBe('EXDEV');
    expect(rename.syscall).toBe('rename');
    expect([rename.path, rename.dest]).toEqual(['/a', '/b']);
  });

  it('gives answers without a JSON body an ERR_HTTP code', () => {
    const error = errorFromBody(502, '<html>Bad gateway</html>');
    expect(error.code).toBe('ERR_HTTP_502');
    expect(error.message).toBe('ERR_HTTP_502: Request failed with status 502');
  });

  it('converts socket errors (code, no errno) into Node errors', () => {
    const socketError = Object.assign(new Error('No running process 7'), {
      code: 'ESRCH'
    });
    const converted = toNodeError(socketError);
    expect(converted.code).toBe('ESRCH');
    expect(converted.errno).toBe(-3);
    expect(converted.message).toBe('ESRCH: No running process 7');
    expect(toNodeError('boom').code).toBe('EIO');
  });
});

describe('URLs and credentials', () => {
  it('builds REST and socket URLs under the base URL', () => {
    expect(endpointUrl('http://h:8888/user/ann', 'webcontainer/boot')).toBe(
      'http://h:8888/user/ann/webcontainer/boot'
    );
    expect(socketUrl('https://hub.example/user/ann/', 'a b')).toBe(
      'wss://hub.example/user/ann/container?token=a+b'
    );
    expect(socketUrl('http://h:8888/')).toBe('ws://h:8888/container');
  });

  it('sends the token as a header without cookies, or the _xsrf cookie without a token', async () => {
    const server = recordingFetch();
    await createTransport({
      serverUrl: SERVER,
      token: 'tok',
      fetch: server.fetch
    }).fetch('containers');
    expect(server.calls[0].url).toBe(`${SERVER}containers`);
    expect(server.calls[0].headers.get('Authorization')).toBe('token tok');
    // A token answer's Set-Cookie (Jupyter's login cookie) is never stored.
    expect(server.calls[0].credentials).toBe('omit');
    await createTransport({ serverUrl: SERVER, fetch: server.fetch }).fetch(
      'containers'
    );
    expect(server.calls[1].credentials).toBe('same-origin');
    expect(server.calls[1].headers.get('Authorization')).toBeNull();
    expect(readCookie('_xsrf', 'a=1; _xsrf=2%7Cx; b=3')).toBe('2|x');
    expect(readCookie('_xsrf', 'a=1')).toBeUndefined();
  });

  it('offers the token as a subprotocol, base64url, next to the one the server echoes', () => {
    expect(SOCKET_PROTOCOL).toBe('jupyter-container-manager.v2');
    expect(socketProtocols()).toEqual([
      SOCKET_PROTOCOL,
      'jupyter-container-manager.v1'
    ]);
    expect(socketProtocols('tok')).toEqual([
      SOCKET_PROTOCOL,
      'jupyter-container-manager.v1',
      `${TOKEN_PROTOCOL_PREFIX}dG9r`
    ]);
    // Any token survives: base64url of its UTF-8 bytes, without padding.
    const odd = socketProtocols('ä?>~')[2].slice(TOKEN_PROTOCOL_PREFIX.length);
    expect(odd).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = atob(odd.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(decoded, c => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe('ä?>~');
  });

  it('resolves preview paths against the server origin', () => {
    const transport = createTransport({
      serverUrl: SERVER,
      fetch: recordingFetch().fetch
    });
    expect(transport.resolveUrl('/user/ann/containers/x/proxy/3000/')).toBe(
      'http://127.0.0.1:8888/user/ann/containers/x/proxy/3000/'
    );
  });
});

describe('watch helpers', () => {
  it('maps change kinds to Node events and filenames relative to the watched path', () => {
    expect(watchEvent('add')).toBe('rename');
    expect(watchEvent('unlinkDir')).toBe('rename');
    expect(watchEvent('change')).toBe('change');
    expect(watchedName('/', '/hello.txt', false)).toBe('hello.txt');
    expect(watchedName('/src', '/src/a.js', false)).toBe('a.js');
    expect(watchedName('/src', '/src/lib/a.js', false)).toBeNull();
    expect(watchedName('/src', '/src/lib/a.js', true)).toBe('lib/a.js');
    expect(watchedName('/src/a.js', '/src/a.js', false)).toBe('a.js');
    expect(watchedName('/src', '/srcs/a.js', true)).toBeNull();
  });
});

describe('WebContainer', () => {
  let server: ReturnType<typeof recordingFetch>;
  let sockets: ReturnType<typeof socketFactory>;
  let wc: WebContainer;

  async function boot(): Promise<WebContainer> {
    server.json(201, { containerId: ID, workdir: '/home/app' });
    const container = await WebContainer.boot({
      serverUrl: SERVER,
      token: 'tok',
      workdirName: 'app',
      fetch: server.fetch,
      webSocket: sockets.factory
    });
    sockets.current().open();
    sockets.current().acceptJoin({ workdir: '/home/app' });
    return container;
  }

  beforeEach(async () => {
    server = recordingFetch();
    sockets = socketFactory();
    wc = await boot();
  });

  it('boots with workdirName and joins the container on its socket', () => {
    expect(server.calls[0].url).toBe(`${SERVER}webcontainer/boot`);
    expect(JSON.parse(server.calls[0].body)).toEqual({ workdirName: 'app' });
    expect(wc.containerId).toBe(ID);
    expect(wc.workdir).toBe('/home/app');
    // The token is in no URL: it is offered as a subprotocol.
    expect(sockets.current().url).toBe(
      'ws://127.0.0.1:8888/user/ann/container'
    );
    expect(sockets.current().protocols).toEqual(socketProtocols('tok'));
    expect(sockets.current().last('join-container')!.data).toEqual({
      containerId: ID
    });
  });

  it('readdir with withFileTypes gives entries whose isFile/isDirectory are methods', async () => {
    server.json(200, [
      { name: 'src', type: 'directory' },
      { name: 'a.js', type: 'file' },
      { name: 'l', type: 'symlink' }
    ]);
    const entries = await wc.fs.readdir('/my dir', { withFileTypes: true });
    expect(server.calls[1].url).toBe(
      `${SERVER}webcontainer/${ID}/fs/readdir/my%20dir?withFileTypes=true`
    );
    expect(entries[0]).toBeInstanceOf(DirEnt);
    expect(
      entries.map(e => [
        e.name,
        e.isFile(),
        e.isDirectory(),
        e.isSymbolicLink()
      ])
    ).toEqual([
      ['src', false, true, false],
      ['a.js', true, false, false],
      ['l', false, false, true]
    ]);
    server.json(200, ['a.js']);
    expect(await wc.fs.readdir('/')).toEqual(['a.js']);
  });

  it('readFile gives bytes, or text with an encoding; writeFile posts text, PUTs bytes', async () => {
    server.text(200, 'AB');
    const bytes = await wc.fs.readFile('/a.txt');
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(bytes)).toEqual([65, 66]);
    server.text(200, 'hello');
    expect(await wc.fs.readFile('a.txt', 'utf-8')).toBe('hello');
    expect(server.calls[2].url).toBe(
      `${SERVER}webcontainer/${ID}/fs/readFile/a.txt?encoding=utf-8`
    );

    await wc.fs.writeFile('/b.txt', 'text');
    expect(server.calls[3].method).toBe('POST');
    expect(JSON.parse(server.calls[3].body)).toEqual({
      path: '/b.txt',
      contents: 'text',
      encoding: 'utf-8'
    });
    await wc.fs.writeFile('/c.bin', new Uint8Array([1, 2]));
    expect(server.calls[4].method).toBe('PUT');
    expect(server.calls[4].url).toBe(
      `${SERVER}webcontainer/${ID}/fs/writeFile?path=%2Fc.bin`
    );
  });

  it('mkdir, rm, rename, mount and export call their routes', async () => {
    await wc.fs.mkdir('/a/b', { recursive: true });
    await wc.fs.rm('/a', { recursive: true });
    await wc.fs.rename('/x', '/y');
    await wc.mount(
      { 'a.txt': { file: { contents: 'A' } } },
      { mountPoint: '/m' }
    );
    server.json(200, { 'a.txt': { file: { contents: 'A' } } });
    const tree = await wc.export('/', { format: 'json' });
    expect(tree).toEqual({ 'a.txt': { file: { contents: 'A' } } });
    const calls = server.calls
      .slice(1)
      .map(c => [c.method, c.url.slice(SERVER.length)]);
    expect(calls).toEqual([
      ['POST', `webcontainer/${ID}/fs/mkdir`],
      [
        'DELETE',
        `webcontainer/${ID}/fs/rm?path=%2Fa&recursive=true&force=false`
      ],
      ['POST', `webcontainer/${ID}/fs/rename`],
      ['POST', `webcontainer/${ID}/mount`],
      ['GET', `webcontainer/${ID}/export?path=%2F&format=json`]
    ]);
    expect(JSON.parse(server.calls[1].body)).toEqual({
      path: '/a/b',
      recursive: true
    });
    expect(JSON.parse(server.calls[3].body)).toEqual({
      oldPath: '/x',
      newPath: '/y'
    });
    expect(JSON.parse(server.calls[4].body).mountPoint).toBe('/m');
  });

  it('throws Node-style errors from the server', async () => {
    server.json(404, {
      message: "ENOENT: no such file or directory, open '/home/app/nope'",
      reason: 'Not Found',
      code: 'ENOENT'
    });
    const error = await wc.fs.readFile('/nope', 'utf-8').catch(e => e);
    expect(error.code).toBe('ENOENT');
    expect(error.errno).toBe(-2);
    expect(error.message.startsWith('ENOENT:')).toBe(true);
  });

  it('spawn streams output, takes input, and exit resolves with the code', async () => {
    const ws = sockets.current();
    const spawning = wc.spawn('node', ['server.js'], {
      cwd: '/src',
      env: { A: 1 }
    });
    await flush();
    const request = ws.last('process-operation')!;
    expect(request.data).toEqual({
      type: 'spawn',
      command: 'node',
      args: ['server.js'],
      cwd: '/src',
      env: { A: '1' },
      terminal: { cols: 80, rows: 24 } // a terminal by default, as WebContainer's
    });
    ws.receive({
      event: 'process-result',
      id: request.id,
      data: { type: 'spawn', pid: 7 }
    });
    // Output of another process on the same socket is not ours.
    ws.receive({ event: 'process-output', data: { pid: 8, data: 'other' } });
    ws.receive({ event: 'process-output', data: { pid: 7, data: 'hello ' } });
    const process = await spawning;
    ws.receive({ event: 'process-output', data: { pid: 7, data: 'world' } });

    const writer = process.input.getWriter();
    const writing = writer.write('line\n');
    await flush();
    const input = ws.last('process-operation')!;
    expect(input.data).toEqual({ type: 'input', pid: 7, data: 'line\n' });
    ws.receive({
      event: 'process-result',
      id: input.id,
      data: { type: 'input', pid: 7 }
    });
    await writing;

    ws.receive({ event: 'process-exit', data: { pid: 7, exitCode: 3 } });
    expect(await readAll(process.output)).toBe('hello world');
    expect(await process.exit).toBe(3);
    await expect(writer.write('late')).rejects.toMatchObject({ code: 'EPIPE' });
  });

  it('kill and resize send process operations; exit is -1 when the socket drops', async () => {
    const ws = sockets.current();
    const spawning = wc.spawn('sh', { terminal: { cols: 80, rows: 24 } });
    await flush();
    const spawn = ws.last('process-operation')!;
    expect(spawn.data.terminal).toEqual({ cols: 80, rows: 24 });
    ws.receive({ event: 'process-result', id: spawn.id, data: { pid: 9 } });
    const process = await spawning;

    const resizing = process.resize({ cols: 100, rows: 30 });
    await flush();
    const resize = ws.last('process-operation')!;
    expect(resize.data).toEqual({
      type: 'resize',
      pid: 9,
      cols: 100,
      rows: 30
    });
    ws.receive({ event: 'process-result', id: resize.id, data: { pid: 9 } });
    await resizing;

    const killing = process.kill();
    await flush();
    const kill = ws.last('process-operation')!;
    expect(kill.data).toEqual({ type: 'kill', pid: 9, signal: 'KILL' });
    ws.receive({ event: 'process-result', id: kill.id, data: { pid: 9 } });
    await killing;

    const errors: string[] = [];
    wc.on('error', e => errors.push(e.code!));
    ws.drop();
    expect(await process.exit).toBe(-1);
    expect(errors).toEqual(['ECONNRESET']);
  });

  it('spawn takes a terminal size, or terminal: false for pipes', async () => {
    const ws = sockets.current();
    wc.spawn('node', { terminal: { cols: 120, rows: 40 } }).catch(
      () => undefined
    );
    await flush();
    expect(ws.last('process-operation')!.data).toEqual({
      type: 'spawn',
      command: 'node',
      args: [],
      terminal: { cols: 120, rows: 40 }
    });
    wc.spawn('node', ['-v'], { terminal: false }).catch(() => undefined);
    await flush();
    expect(ws.last('process-operation')!.data).toEqual({
      type: 'spawn',
      command: 'node',
      args: ['-v']
    });
  });

  it('output: false keeps the stream empty while the process runs and exits', async () => {
    const ws = sockets.current();
    const spawning = wc.spawn('ls', [], { output: false });
    await flush();
    ws.receive({
      event: 'process-result',
      id: ws.last('process-operation')!.id,
      data: { pid: 4 }
    });
    const process = await spawning;
    ws.receive({ event: 'process-output', data: { pid: 4, data: 'not kept' } });
    ws.receive({ event: 'process-exit', data: { pid: 4, exitCode: 0 } });
    expect(await readAll(process.output)).toBe('');
    expect(await process.exit).toBe(0);
  });

  it('spawn errors are Node errors', async () => {
    const ws = sockets.current();
    const spawning = wc.spawn('nope');
    await flush();
    const spawn = ws.last('process-operation')!;
    ws.receive({
      event: 'error',
      id: spawn.id,
      data: { message: 'spawn nope ENOENT', code: 'ENOENT' }
    });
    await expect(spawning).rejects.toMatchObject({ code: 'ENOENT', errno: -2 });
  });

  it('on() subscribes to port and server-ready with absolute URLs, and unsubscribes', () => {
    const ws = sockets.current();
    const ready: [number, string][] = [];
    const ports: [number, string, string][] = [];
    const off = wc.on('server-ready', (port, url) => ready.push([port, url]));
    wc.on('port', (port, type, url) => ports.push([port, type, url]));
    const url = `/user/ann/containers/${ID}/proxy/3000/`;
    ws.receive({ event: 'server-ready', data: { port: 3000, url } });
    ws.receive({ event: 'port', data: { port: 3000, type: 'open', url } });
    off();
    ws.receive({ event: 'server-ready', data: { port: 3000, url } });
    expect(ready).toEqual([[3000, `http://127.0.0.1:8888${url}`]]);
    expect(ports).toEqual([[3000, 'open', `http://127.0.0.1:8888${url}`]]);
    expect(() => wc.on('nope' as any, () => undefined)).toThrow(/EINVAL/);
  });

  it('error frames without a request reach on("error")', () => {
    const errors: { message: string; code?: string }[] = [];
    wc.on('error', e => errors.push(e));
    sockets.current().receive({
      event: 'error',
      data: { message: 'bad frame', code: 'EBADFRAME' }
    });
    expect(errors).toEqual([{ message: 'bad frame', code: 'EBADFRAME' }]);
  });

  it('watch sends watch once per path, reports Node events, and unwatches on close', async () => {
    const ws = sockets.current();
    const seen: [string, string][] = [];
    const first = wc.fs.watch('/', (event, name) => seen.push([event, name]));
    const second = wc.fs.watch('/', { recursive: true }, (event, name) =>
      seen.push([`r-${event}`, name])
    );
    await flush();
    const watches = ws.sent.filter(f => f.event === 'fs-operation');
    expect(watches.map(f => f.data)).toEqual([{ type: 'watch', path: '/' }]);
    ws.receive({
      event: 'fs-result',
      id: watches[0].id,
      data: { type: 'watch', result: null }
    });
    await first.ready;
    await second.ready;

    ws.receive({
      event: 'fs-change',
      data: { path: '/hello.txt', kind: 'add' }
    });
    ws.receive({
      event: 'fs-change',
      data: { path: '/home/app/src/a.js', kind: 'change' }
    });
    expect(seen).toEqual([
      ['rename', 'hello.txt'],
      ['r-rename', 'hello.txt'],
      ['r-change', 'src/a.js']
    ]);
    first.close();
    second.close();
    await flush();
    expect(ws.last('fs-operation')!.data).toEqual({
      type: 'unwatch',
      path: '/'
    });
    ws.receive({ event: 'fs-change', data: { path: '/x', kind: 'add' } });
    expect(seen).toHaveLength(3);
  });

  it('a refused watch rejects ready with a Node error', async () => {
    const ws = sockets.current();
    const watcher = wc.fs.watch('/missing', () => undefined);
    await flush();
    ws.receive({
      event: 'error',
      id: ws.last('fs-operation')!.id,
      data: {
        message: "ENOENT: no such file or directory, watch '/home/app/missing'",
        code: 'ENOENT'
      }
    });
    await expect(watcher.ready).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'watch'
    });
  });

  it('teardown deletes the container, closes the socket and refuses later calls', async () => {
    const ws = sockets.current();
    await wc.teardown();
    const last = server.calls[server.calls.length - 1];
    expect([last.method, last.url]).toEqual([
      'DELETE',
      `${SERVER}webcontainer/${ID}`
    ]);
    expect(ws.closed).toBe(true);
    expect(wc.isTornDown).toBe(true);
    await expect(wc.spawn('ls')).rejects.toMatchObject({
      code: 'ERR_TORN_DOWN'
    });
    // Its file system is unusable too, as in @webcontainer/api.
    const calls = server.calls.length;
    await expect(wc.fs.readFile('/a')).rejects.toMatchObject({
      code: 'ERR_TORN_DOWN'
    });
    expect(() => wc.fs.watch('/', () => undefined)).toThrow(/ERR_TORN_DOWN/);
    expect(server.calls).toHaveLength(calls);
    await wc.teardown(); // idempotent, no second DELETE
    expect(server.calls.filter(c => c.method === 'DELETE')).toHaveLength(1);
  });
});

describe('teardown keeping the container', () => {
  it('kills its processes, waits for their exit, closes the socket, deletes nothing', async () => {
    const server = recordingFetch();
    const sockets = socketFactory();
    server.json(201, { containerId: ID, workdir: '/home/app' });
    const wc = await WebContainer.boot({
      serverUrl: SERVER,
      token: 'tok',
      keepContainer: true,
      fetch: server.fetch,
      webSocket: sockets.factory
    });
    const ws = sockets.current();
    ws.open();
    ws.acceptJoin();
    const spawning = wc.spawn('sleep', ['100']);
    await flush();
    ws.receive({
      event: 'process-result',
      id: ws.last('process-operation')!.id,
      data: { pid: 5 }
    });
    const process = await spawning;

    let done = false;
    const tearing = wc.teardown().then(() => (done = true));
    await flush();
    const kill = ws.last('process-operation')!;
    expect(kill.data).toEqual({ type: 'kill', pid: 5, signal: 'KILL' });
    ws.receive({ event: 'process-result', id: kill.id, data: { pid: 5 } });
    await flush();
    expect(done).toBe(false); // until the process is gone
    expect(ws.closed).toBe(false);
    ws.receive({ event: 'process-exit', data: { pid: 5, exitCode: 137 } });
    await tearing;
    expect(await process.exit).toBe(137);
    expect(ws.closed).toBe(true);
    expect(server.calls.filter(c => c.method === 'DELETE')).toHaveLength(0);
  });
});

describe('bytes: mount and export as @webcontainer/api has them', () => {
  let server: ReturnType<typeof recordingFetch>;
  let wc: WebContainer;

  beforeEach(() => {
    server = recordingFetch();
    wc = WebContainer.attach(ID, {
      serverUrl: SERVER,
      token: 'tok',
      fetch: server.fetch,
      webSocket: socketFactory().factory
    });
  });

  it('mount sends Uint8Array contents as base64, text as text', async () => {
    await wc.mount({
      'a.txt': { file: { contents: 'A' } },
      bin: {
        directory: {
          'x.dat': { file: { contents: new Uint8Array([0, 255, 10]) } }
        }
      }
    });
    expect(JSON.parse(server.calls[0].body)).toEqual({
      tree: {
        'a.txt': { file: { contents: 'A' } },
        bin: {
          directory: {
            'x.dat': { file: { contents: 'AP8K', encoding: 'base64' } }
          }
        }
      }
    });
  });

  it('mount of bytes (an export in binary format) posts them as a zip', async () => {
    const zip = new Uint8Array([80, 75, 5, 6, 0, 0]);
    await wc.mount(zip, { mountPoint: '/copy' });
    await wc.mount(zip.buffer);
    const [first, second] = server.calls;
    expect([first.method, first.url]).toEqual([
      'POST',
      `${SERVER}webcontainer/${ID}/mount?mountPoint=%2Fcopy`
    ]);
    expect(first.headers.get('Content-Type')).toBe('application/zip');
    expect(first.body).toBe(zip);
    expect(second.url).toBe(`${SERVER}webcontainer/${ID}/mount`);
    expect(Array.from(second.body as Uint8Array)).toEqual(Array.from(zip));
  });

  it('export gives base64 files as Uint8Array, and binary as bytes', async () => {
    server.json(200, {
      'a.txt': { file: { contents: 'A' } },
      d: {
        directory: {
          'x.dat': { file: { contents: 'AP8K', encoding: 'base64' } }
        }
      }
    });
    const tree = await wc.export('/');
    expect(tree['a.txt']).toEqual({ file: { contents: 'A' } });
    const data = (tree.d as any).directory['x.dat'].file.contents;
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual([0, 255, 10]);

    server.answers.push(
      new Response(new Uint8Array([80, 75]), { status: 200 })
    );
    const bytes = await wc.export('/src', { format: 'binary' });
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(server.calls[1].url).toBe(
      `${SERVER}webcontainer/${ID}/export?path=%2Fsrc&format=binary`
    );
    await expect(
      wc.export('/', { format: 'tar' as any })
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE'
    });
  });
});

describe('Emitter', () => {
  it('calls slots with (sender, args), once per slot and thisArg, like a Lumino signal', async () => {
    const { Emitter } = await import('../src/webcontainer/emitter');
    const sender = { name: 'socket' };
    const emitter = new Emitter<typeof sender, number>(sender);
    const seen: string[] = [];
    const owner = { tag: 'a' };
    function slot(this: { tag: string }, s: typeof sender, n: number) {
      seen.push(`${this.tag}:${s.name}:${n}`);
    }
    expect(emitter.connect(slot, owner)).toBe(true);
    expect(emitter.connect(slot, owner)).toBe(false);
    const late = () => seen.push('late');
    emitter.connect(() => emitter.disconnect(late));
    emitter.connect(late);
    emitter.emit(1);
    expect(seen).toEqual(['a:socket:1']);
    expect(emitter.disconnect(slot, owner)).toBe(true);
    emitter.emit(2);
    expect(seen).toEqual(['a:socket:1']);
  });
});
