import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  ContainerSocket,
  SocketRequestError,
  backoffDelay,
  containerSocketUrl
} from '../src/socket';
import { socketFactory } from './fakes';

const ID = '3f0c0d6e-6a53-4c1b-9a51-2f1b1c2d3e4f';

describe('containerSocketUrl', () => {
  it('joins the ws URL and appends the token when the settings say so', () => {
    expect(
      containerSocketUrl({
        wsUrl: 'ws://127.0.0.1:8888/user/ann/',
        token: 'se cret',
        appendToken: true
      })
    ).toBe('ws://127.0.0.1:8888/user/ann/container?token=se%20cret');
  });

  it('leaves the token out when it is not to be appended (cookie auth)', () => {
    expect(
      containerSocketUrl({
        wsUrl: 'wss://hub.example/',
        token: 'abc',
        appendToken: false
      })
    ).toBe('wss://hub.example/container');
    expect(
      containerSocketUrl({ wsUrl: 'ws://h/', token: '', appendToken: true })
    ).toBe('ws://h/container');
  });
});

describe('backoffDelay', () => {
  const backoff = { initial: 500, max: 10000, factor: 2 };

  it('grows by the factor and is capped, with jitter in [raw/2, raw)', () => {
    expect(backoffDelay(0, backoff, () => 0)).toBe(250);
    expect(backoffDelay(0, backoff, () => 0.999)).toBe(500);
    expect(backoffDelay(3, backoff, () => 0)).toBe(2000);
    expect(backoffDelay(20, backoff, () => 0)).toBe(5000);
    expect(backoffDelay(20, backoff, () => 0.999)).toBe(9995);
  });
});

describe('ContainerSocket', () => {
  let fakes: ReturnType<typeof socketFactory>;
  let socket: ContainerSocket;

  beforeEach(() => {
    vi.useFakeTimers();
    fakes = socketFactory();
    socket = new ContainerSocket(ID, {
      url: () => 'ws://server/container?token=t',
      factory: fakes.factory,
      random: () => 0,
      backoff: { initial: 100, max: 1000, factor: 2 },
      requestTimeout: 5000
    });
  });

  afterEach(() => {
    socket.dispose();
    vi.useRealTimers();
  });

  async function connected(extra: Record<string, unknown> = {}) {
    const joined = socket.connect();
    fakes.current().open();
    fakes.current().acceptJoin(extra);
    return joined;
  }

  it('joins its container first and resolves with the join answer', async () => {
    const joined = socket.connect();
    expect(fakes.sockets).toHaveLength(1);
    expect(fakes.current().url).toBe('ws://server/container?token=t');
    fakes.current().open();
    expect(fakes.current().sent).toEqual([
      {
        event: 'join-container',
        id: expect.any(Number),
        data: { containerId: ID }
      }
    ]);
    fakes.current().acceptJoin({ cwd: '/workspace', terminals: ['t1'] });
    await expect(joined).resolves.toMatchObject({
      containerId: ID,
      cwd: '/workspace',
      terminals: ['t1']
    });
    expect(socket.status).toBe('open');
  });

  it('matches replies to requests by id, in any order', async () => {
    await connected();
    const ws = fakes.current();
    const a = socket.request('fs-operation', { type: 'readdir', path: '/' });
    const b = socket.request('fs-operation', { type: 'stat', path: '/a.js' });
    const [frameA, frameB] = ws.sent.slice(-2);
    expect(frameA.id).not.toBe(frameB.id);
    ws.receive({
      event: 'fs-result',
      id: frameB.id,
      data: { type: 'stat', result: { size: 3 } }
    });
    ws.receive({
      event: 'fs-result',
      id: frameA.id,
      data: { type: 'readdir', result: ['a.js'] }
    });
    await expect(a).resolves.toMatchObject({ data: { result: ['a.js'] } });
    await expect(b).resolves.toMatchObject({ data: { result: { size: 3 } } });
  });

  it('accepts a reply whose id comes back as a string', async () => {
    await connected();
    const ws = fakes.current();
    const reply = socket.request('pty-open', { cols: 80, rows: 24 });
    const sent = ws.last('pty-open')!;
    ws.receive({
      event: 'pty-opened',
      id: String(sent.id),
      data: { terminalId: 'x' }
    });
    await expect(reply).resolves.toMatchObject({ data: { terminalId: 'x' } });
  });

  it('rejects a request answered with error, carrying message and code', async () => {
    await connected();
    const ws = fakes.current();
    const reply = socket.request('fs-operation', {
      type: 'readFile',
      path: '/nope'
    });
    ws.receive({
      event: 'error',
      id: ws.last('fs-operation')!.id,
      data: {
        message: "ENOENT: no such file or directory, open '/workspace/nope'",
        code: 'ENOENT'
      }
    });
    const error = await reply.catch(e => e);
    expect(error).toBeInstanceOf(SocketRequestError);
    expect(error.code).toBe('ENOENT');
    expect(error.message).toContain('no such file or directory');
  });

  it('dispatches pushes to subscribers of their event only', async () => {
    await connected();
    const changes: unknown[] = [];
    const outputs: unknown[] = [];
    const sub = socket.on('fs-change', data => changes.push(data));
    socket.on('pty-output', data => outputs.push(data));
    fakes
      .current()
      .receive({ event: 'fs-change', data: { path: '/a', kind: 'add' } });
    sub.dispose();
    fakes
      .current()
      .receive({ event: 'fs-change', data: { path: '/b', kind: 'add' } });
    expect(changes).toEqual([{ path: '/a', kind: 'add' }]);
    expect(outputs).toEqual([]);
  });

  it('reads binary output frames into the pushes their text frames would be', async () => {
    await connected();
    expect(fakes.current().binaryType).toBe('arraybuffer');
    const outputs: unknown[] = [];
    const exits: unknown[] = [];
    socket.on('process-output', data => outputs.push(data));
    socket.on('process-exit', data => exits.push(data));
    const euro = new TextEncoder().encode('€'); // e2 82 ac
    fakes
      .current()
      .receiveBinary(outputFrame(1, 0, '42', [0x61, euro[0], euro[1]]));
    fakes.current().receiveBinary(outputFrame(1, 0, '42', [euro[2], 0x62]));
    fakes.current().receiveBinary(outputFrame(1, 0, '7', [0xff, 0x63]));
    // An incomplete character at the very end comes out before the exit.
    fakes.current().receiveBinary(outputFrame(1, 0, '42', [euro[0]]));
    fakes
      .current()
      .receive({ event: 'process-exit', data: { pid: 42, exitCode: 0 } });
    expect(outputs).toEqual([
      { pid: 42, data: 'a' },
      { pid: 42, data: '€b' },
      { pid: 7, data: '\ufffdc' },
      { pid: 42, data: '\ufffd' }
    ]);
    expect(exits).toEqual([{ pid: 42, exitCode: 0 }]);
  });

  it('reads terminal frames with their replay and dropped flags', async () => {
    await connected();
    const outputs: unknown[] = [];
    socket.on('pty-output', data => outputs.push(data));
    const text = [...new TextEncoder().encode('hé')];
    fakes.current().receiveBinary(outputFrame(2, 2, 'term', text));
    const dropped = [0, 0, 0, 1, 0, 0, 1, 2]; // 2**32 + 258
    fakes
      .current()
      .receiveBinary(outputFrame(2, 4, 'term', [...dropped, 0x21]));
    fakes.current().receiveBinary(outputFrame(9, 0, 'x', [0x21])); // unknown: ignored
    fakes.current().receiveBinary(new Uint8Array([2, 0])); // too short: ignored
    expect(outputs).toEqual([
      { terminalId: 'term', replay: true, data: 'hé' },
      { terminalId: 'term', dropped: 2 ** 32 + 258, data: '!' }
    ]);
  });

  it('reports error frames without a pending id, and survives garbage frames', async () => {
    await connected();
    const errors: SocketRequestError[] = [];
    socket.errorReceived.connect((_, e) => errors.push(e));
    fakes.current().receive('not json at all');
    fakes.current().receive({
      event: 'error',
      data: { message: 'bad frame', code: 'EINVAL' }
    });
    expect(errors.map(e => [e.message, e.code])).toEqual([
      ['bad frame', 'EINVAL']
    ]);
    const reply = socket.request('fs-operation', {
      type: 'readdir',
      path: '/'
    });
    fakes.current().receive({
      event: 'fs-result',
      id: fakes.current().last('fs-operation')!.id,
      data: { result: [] }
    });
    await expect(reply).resolves.toBeTruthy();
  });

  it('queues requests made before the connection and sends them after the join', async () => {
    const reply = socket.request('terminal-input', { input: 'pwd' });
    const ws = fakes.current();
    ws.open();
    // Only the join goes before the join is answered.
    expect(ws.sent.map(f => f.event)).toEqual(['join-container']);
    ws.acceptJoin();
    expect(ws.sent.map(f => f.event)).toEqual([
      'join-container',
      'terminal-input'
    ]);
    ws.receive({
      event: 'terminal-output',
      id: ws.last('terminal-input')!.id,
      data: { output: '/workspace\n', exitCode: 0, cwd: '/workspace' }
    });
    await expect(reply).resolves.toMatchObject({ data: { exitCode: 0 } });
  });

  it('reconnects with backoff and joins the container again', async () => {
    await connected();
    const first = fakes.current();
    const states: string[] = [];
    socket.statusChanged.connect((_, s) => states.push(s));
    const rejoined = vi.fn();
    socket.reconnected.connect((_, joined) => rejoined(joined));

    first.drop();
    expect(socket.status).toBe('closed');
    expect(fakes.sockets).toHaveLength(1);
    vi.advanceTimersByTime(49); // first delay: 100 * 2^0, jitter 0 -> 50 ms
    expect(fakes.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(fakes.sockets).toHaveLength(2);

    // The second attempt fails too: the next delay doubles.
    fakes.current().drop();
    vi.advanceTimersByTime(99);
    expect(fakes.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(fakes.sockets).toHaveLength(3);

    const third = fakes.current();
    third.open();
    expect(third.sent).toEqual([
      {
        event: 'join-container',
        id: expect.any(Number),
        data: { containerId: ID }
      }
    ]);
    third.acceptJoin({ cwd: '/workspace/src' });
    expect(rejoined).toHaveBeenCalledWith(
      expect.objectContaining({ containerId: ID, cwd: '/workspace/src' })
    );
    expect(states).toEqual([
      'closed',
      'connecting',
      'closed',
      'connecting',
      'open'
    ]);

    // After a success the backoff starts over.
    third.drop();
    vi.advanceTimersByTime(50);
    expect(fakes.sockets).toHaveLength(4);
  });

  it('runs join hooks before queued frames on every join', async () => {
    const order: string[] = [];
    socket.onJoined(joined => {
      order.push(`hook:${joined.cwd}`);
      socket.send('pty-open', { terminalId: 'T' });
    });
    await connected({ cwd: 'a' });
    fakes.current().drop();
    socket.send('pty-input', { terminalId: 'T', data: 'ls\r' });
    vi.advanceTimersByTime(50);
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin({ cwd: 'b' });
    expect(order).toEqual(['hook:a', 'hook:b']);
    // The re-open frame from the hook is sent before the input queued while down.
    expect(ws.sent.map(f => f.event)).toEqual([
      'join-container',
      'pty-open',
      'pty-input'
    ]);
  });

  it('rejects requests in flight when the connection drops; queued ones wait', async () => {
    await connected();
    const inFlight = socket.request('fs-operation', {
      type: 'readdir',
      path: '/'
    });
    fakes.current().drop();
    const error = await inFlight.catch(e => e);
    expect(error).toBeInstanceOf(SocketRequestError);
    expect(error.code).toBe('ECONNRESET');

    const queued = socket.request('fs-operation', { type: 'stat', path: '/' });
    vi.advanceTimersByTime(50);
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    ws.receive({
      event: 'fs-result',
      id: ws.last('fs-operation')!.id,
      data: { result: {} }
    });
    await expect(queued).resolves.toBeTruthy();
  });

  it('times out a request that gets no answer', async () => {
    await connected();
    const reply = socket.request('fs-operation', {
      type: 'readdir',
      path: '/'
    });
    vi.advanceTimersByTime(5000);
    const error = await reply.catch(e => e);
    expect(error.code).toBe('ETIMEDOUT');
  });

  it('rejects the join when the server refuses it', async () => {
    const joined = socket.connect();
    const ws = fakes.current();
    ws.open();
    ws.receive({
      event: 'error',
      id: ws.last('join-container')!.id,
      data: { message: 'No container with id x', code: 'ENOENT' }
    });
    const error = await joined.catch(e => e);
    expect(error.message).toBe('No container with id x');
    expect(error.code).toBe('ENOENT');
  });

  it('stops for good on dispose: pending rejected, no reconnect', async () => {
    await connected();
    const reply = socket.request('fs-operation', {
      type: 'readdir',
      path: '/'
    });
    const ws = fakes.current();
    socket.dispose();
    expect(ws.closed).toBe(true);
    await expect(reply).rejects.toThrow('disposed');
    vi.advanceTimersByTime(60000);
    expect(fakes.sockets).toHaveLength(1);
    await expect(socket.request('x')).rejects.toThrow('disposed');
  });
});

describe('ContainerSocket.rejoin', () => {
  it('joins again on the same connection, holding frames until the answer', async () => {
    const fakes = socketFactory();
    const socket = new ContainerSocket(ID, {
      url: 'ws://s/container',
      factory: fakes.factory
    });
    const hooks: string[] = [];
    socket.onJoined(joined => hooks.push(joined.status));
    const first = socket.connect();
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await first;

    const again = socket.rejoin();
    socket.send('pty-open', { cols: 80, rows: 24 });
    expect(ws.sent.map(f => f.event)).toEqual([
      'join-container',
      'join-container'
    ]);
    ws.acceptJoin({ status: 'running', cwd: '/workspace' });
    await expect(again).resolves.toMatchObject({ cwd: '/workspace' });
    expect(ws.sent.map(f => f.event)).toEqual([
      'join-container',
      'join-container',
      'pty-open'
    ]);
    expect(hooks).toEqual(['running', 'running']);
    expect(fakes.sockets).toHaveLength(1);
    socket.dispose();
  });
});

/** A binary output frame: kind, flags, the id length-prefixed, then the rest. */
function outputFrame(
  kind: number,
  flags: number,
  id: string,
  rest: number[]
): Uint8Array {
  const idBytes = [...new TextEncoder().encode(id)];
  return new Uint8Array([kind, flags, idBytes.length, ...idBytes, ...rest]);
}
