import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ContainerClient } from '../src/client';
import { ContainerDrive } from '../src/drive';
import { SocketPool } from '../src/sockets';
import { FakeSocket, socketFactory } from './fakes';

const ID = '9d6e5c4b-3a29-4187-a6b5-c4d3e2f1a0b9';

/** An in-memory container file system behind the client calls the drive makes. */
class MemoryClient {
  files = new Map<string, Uint8Array>();
  writes: { path: string; how: string }[] = [];
  renames: [string, string][] = [];
  removed: string[] = [];
  settings = { baseUrl: 'http://h/base/' };

  async readBytes(_id: string, path: string) {
    const bytes = this.files.get(path);
    if (!bytes) {
      throw Object.assign(
        new Error(`ENOENT: no such file or directory, open '${path}'`),
        {
          code: 'ENOENT'
        }
      );
    }
    return bytes.slice().buffer;
  }
  async writeText(_id: string, path: string, contents: string) {
    this.writes.push({ path, how: 'text' });
    this.files.set(path, new TextEncoder().encode(contents));
  }
  async writeBytes(_id: string, path: string, blob: Blob) {
    this.writes.push({ path, how: 'bytes' });
    this.files.set(path, new Uint8Array(await blob.arrayBuffer()));
  }
  async readdir(_id: string, dir: string) {
    const prefix = dir === '/' ? '/' : dir + '/';
    return [...this.files.keys()]
      .filter(
        p => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')
      )
      .map(p => ({ name: p.slice(prefix.length), type: 'file' as const }));
  }
  async rename(_id: string, from: string, to: string) {
    this.renames.push([from, to]);
    this.files.set(to, this.files.get(from)!);
    this.files.delete(from);
  }
  async rm(_id: string, path: string) {
    this.removed.push(path);
    this.files.delete(path);
  }
  async mkdir() {
    return undefined;
  }
}

describe('ContainerDrive', () => {
  let fakes: ReturnType<typeof socketFactory>;
  let pool: SocketPool;
  let client: MemoryClient;
  let drive: ContainerDrive;
  let ws: FakeSocket;

  beforeEach(async () => {
    fakes = socketFactory();
    pool = new SocketPool({
      url: () => 'ws://h/container',
      factory: fakes.factory
    });
    client = new MemoryClient();
    drive = new ContainerDrive(client as unknown as ContainerClient, pool);
    const socket = pool.get(ID);
    ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await socket.connect();
    // Answer every stat from the memory file system, mtime in ms as the server does.
    const send = ws.send.bind(ws);
    ws.send = (data: string) => {
      send(data);
      const frame = JSON.parse(data);
      if (frame.event === 'fs-operation' && frame.data.type === 'stat') {
        const bytes = client.files.get(frame.data.path);
        queueMicrotask(() =>
          ws.receive(
            bytes
              ? {
                  event: 'fs-result',
                  id: frame.id,
                  data: {
                    type: 'stat',
                    result: {
                      type: 'file',
                      size: bytes.length,
                      mtime: 1700000000000,
                      mode: 420
                    }
                  }
                }
              : {
                  event: 'error',
                  id: frame.id,
                  data: {
                    message: 'ENOENT: no such file or directory',
                    code: 'ENOENT'
                  }
                }
          )
        );
      }
    };
  });

  afterEach(() => {
    drive.dispose();
    pool.dispose();
  });

  it('reads a UTF-8 file as text with the stat mtime', async () => {
    client.files.set('/src/a.js', new TextEncoder().encode('let a = "é";\n'));
    const model = await drive.get(`${ID}/src/a.js`, {
      type: 'file',
      content: true
    });
    expect(model).toMatchObject({
      name: 'a.js',
      path: `${ID}/src/a.js`,
      type: 'file',
      format: 'text',
      content: 'let a = "é";\n',
      mimetype: 'text/javascript',
      last_modified: '2023-11-14T22:13:20.000Z'
    });
  });

  it('reads bytes that are not UTF-8 as base64', async () => {
    client.files.set(
      '/logo.png',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00])
    );
    const model = await drive.get(`${ID}/logo.png`, { content: true });
    expect(model.format).toBe('base64');
    expect(model.content).toBe('iVBOR/8A');
    expect(model.mimetype).toBe('image/png');
  });

  it('answers 404 ENOENT for a missing file', async () => {
    const error = await drive.get(`${ID}/missing.js`).catch(e => e);
    expect(error.status).toBe(404);
    expect(error.code).toBe('ENOENT');
  });

  it('saves text with the JSON route and base64 as raw bytes, and tells listeners', async () => {
    const changes: string[] = [];
    drive.fileChanged.connect((_, change) =>
      changes.push(`${change.type}:${change.newValue?.path}`)
    );
    const saved = await drive.save(`${ID}/hello.js`, {
      type: 'file',
      format: 'text',
      content: 'console.log(1)\n'
    });
    expect(new TextDecoder().decode(client.files.get('/hello.js'))).toBe(
      'console.log(1)\n'
    );
    expect(saved.last_modified).toBe('2023-11-14T22:13:20.000Z');
    await drive.save(`${ID}/bin.dat`, {
      type: 'file',
      format: 'base64',
      content: 'AAEC/w=='
    });
    expect([...client.files.get('/bin.dat')!]).toEqual([0, 1, 2, 255]);
    expect(client.writes).toEqual([
      { path: '/hello.js', how: 'text' },
      { path: '/bin.dat', how: 'bytes' }
    ]);
    expect(changes).toEqual([`save:${ID}/hello.js`, `save:${ID}/bin.dat`]);
  });

  it('renames inside one container and refuses moves between containers', async () => {
    client.files.set('/a.txt', new Uint8Array([65]));
    const model = await drive.rename(`${ID}/a.txt`, `${ID}/b.txt`);
    expect(model.path).toBe(`${ID}/b.txt`);
    expect(client.renames).toEqual([['/a.txt', '/b.txt']]);
    const error = await drive
      .rename(`${ID}/b.txt`, 'other-container/b.txt')
      .catch(e => e);
    expect(error.code).toBe('EXDEV');
  });

  it('keeps a checkpoint in memory and restores it', async () => {
    client.files.set('/notes.md', new TextEncoder().encode('v1'));
    const checkpoint = await drive.createCheckpoint(`${ID}/notes.md`);
    await drive.save(`${ID}/notes.md`, {
      type: 'file',
      format: 'text',
      content: 'v2'
    });
    expect(await drive.listCheckpoints(`${ID}/notes.md`)).toHaveLength(1);
    await drive.restoreCheckpoint(`${ID}/notes.md`, checkpoint.id);
    expect(new TextDecoder().decode(client.files.get('/notes.md'))).toBe('v1');
  });

  it('names an untitled file after the ones that exist', async () => {
    client.files.set('/untitled.js', new Uint8Array());
    const model = await drive.newUntitled({
      path: ID,
      type: 'file',
      ext: '.js'
    });
    expect(model.path).toBe(`${ID}/untitled1.js`);
  });

  it('copies beside the original as name-Copy1, into another folder under the same name', async () => {
    client.files.set('/a.txt', new TextEncoder().encode('A'));
    client.files.set('/sub/keep.txt', new Uint8Array());
    const beside = await drive.copy(`${ID}/a.txt`, ID);
    expect(beside.path).toBe(`${ID}/a-Copy1.txt`);
    const again = await drive.copy(`${ID}/a.txt`, ID);
    expect(again.path).toBe(`${ID}/a-Copy2.txt`);
    const into = await drive.copy(`${ID}/a.txt`, `${ID}/sub`);
    expect(into.path).toBe(`${ID}/sub/a.txt`);
    expect(new TextDecoder().decode(client.files.get('/sub/a.txt'))).toBe('A');
  });

  it('writes a chunked upload once, whole, at its last chunk', async () => {
    const chunk = (n: number, content: string) =>
      drive.save(`${ID}/big.bin`, {
        type: 'file',
        format: 'base64',
        content,
        chunk: n
      } as any);
    await chunk(1, 'AAE='); // 0 1
    await chunk(2, 'Ag=='); // 2
    expect(client.writes).toEqual([]);
    await chunk(-1, '/w=='); // 255
    expect(client.writes).toEqual([{ path: '/big.bin', how: 'bytes' }]);
    expect([...client.files.get('/big.bin')!]).toEqual([0, 1, 2, 255]);
  });

  it('follows a listed container: its fs-change pushes become fileChanged', async () => {
    client.files.set('/a.txt', new Uint8Array());
    const changes: string[] = [];
    drive.fileChanged.connect((_, change) =>
      changes.push(
        `${change.type}:${change.newValue?.path ?? change.oldValue?.path}`
      )
    );
    await drive.get(ID);
    const watch = ws.sent.find(
      f => f.event === 'fs-operation' && f.data.type === 'watch'
    );
    expect(watch?.data).toMatchObject({ path: '/', recursive: true });
    ws.receive({ event: 'fs-change', data: { path: '/new.txt', kind: 'add' } });
    ws.receive({
      event: 'fs-change',
      data: { path: '/src/b.js', kind: 'change' }
    });
    ws.receive({
      event: 'fs-change',
      data: { path: '/a.txt', kind: 'unlink' }
    });
    ws.receive({ event: 'fs-change', data: { path: '/lib', kind: 'addDir' } });
    expect(changes).toEqual([
      `new:${ID}/new.txt`,
      `save:${ID}/src/b.js`,
      `delete:${ID}/a.txt`,
      `new:${ID}/lib`
    ]);
    // Listing again does not watch twice.
    await drive.get(ID);
    expect(
      ws.sent.filter(f => f.event === 'fs-operation' && f.data.type === 'watch')
    ).toHaveLength(1);
  });

  it('lists the running containers at its root, as folders at their ids', async () => {
    const rooted = new ContainerDrive(
      client as unknown as ContainerClient,
      pool,
      () => [
        { id: ID, name: 'web', status: 'running' },
        { id: 'stopped-one', name: 'old', status: 'stopped' }
      ]
    );
    const root = await rooted.get('');
    expect(root.type).toBe('directory');
    expect(
      (root.content as { name: string; path: string; type: string }[]).map(
        c => [c.name, c.path, c.type]
      )
    ).toEqual([['web', ID, 'directory']]);
    rooted.dispose();
  });
});
