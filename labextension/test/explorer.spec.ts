import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ContainerClient } from '../src/client';
import { ExplorerController } from '../src/panel/explorer';
import { SocketPool } from '../src/sockets';
import { IDirEntry } from '../src/types';
import { socketFactory } from './fakes';

/** A file system the scripted client lists from: directory path -> entries. */
class ListingClient {
  dirs = new Map<string, IDirEntry[]>();
  listed: string[] = [];
  mkdirs: string[] = [];
  async readdir(_id: string, path: string) {
    this.listed.push(path);
    const entries = this.dirs.get(path);
    if (!entries) {
      const error = new Error(
        `ENOENT: no such file or directory, scandir '${path}'`
      );
      throw Object.assign(error, { code: 'ENOENT' });
    }
    return entries;
  }
  async mkdir(_id: string, path: string) {
    this.mkdirs.push(path);
  }
  writeUrl(id: string, path: string) {
    return `http://s/webcontainer/${id}/fs/writeFile?path=${encodeURIComponent(path)}`;
  }
  settings = { token: '' };
}

const rows = (explorer: ExplorerController) =>
  explorer.tree!.rows().map(r => '  '.repeat(r.depth) + r.name);

describe('ExplorerController', () => {
  let fakes: ReturnType<typeof socketFactory>;
  let pool: SocketPool;
  let client: ListingClient;
  let explorer: ExplorerController;

  beforeEach(() => {
    vi.useFakeTimers();
    fakes = socketFactory();
    pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: fakes.factory,
      random: () => 0,
      backoff: { initial: 100, max: 1000, factor: 2 }
    });
    client = new ListingClient();
    client.dirs.set('/', [
      { name: 'src', type: 'directory' },
      { name: 'a.txt', type: 'file' }
    ]);
    client.dirs.set('/src', [{ name: 'index.js', type: 'file' }]);
    explorer = new ExplorerController(
      client as unknown as ContainerClient,
      pool
    );
  });

  afterEach(() => {
    explorer.dispose();
    pool.dispose();
    vi.useRealTimers();
  });

  const settle = () => vi.advanceTimersByTimeAsync(0);

  it('lists the workdir, watches it once joined, and follows fs-change pushes', async () => {
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    await settle();
    expect(rows(explorer)).toEqual(['src', 'a.txt']);

    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await settle();
    const watch = ws.last('fs-operation')!;
    expect(watch.data).toMatchObject({ type: 'watch', path: '/' });
    ws.receive({
      event: 'fs-result',
      id: watch.id,
      data: { type: 'watch', result: null }
    });

    ws.receive({ event: 'fs-change', data: { path: '/b.txt', kind: 'add' } });
    ws.receive({
      event: 'fs-change',
      data: { path: '/workspace/a.txt', kind: 'unlink' }
    });
    expect(rows(explorer)).toEqual(['src', 'b.txt']);
  });

  it('lists a directory when it is expanded, and the selection gives the target directory', async () => {
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    await settle();
    await explorer.toggle('/src');
    expect(rows(explorer)).toEqual(['src', '  index.js', 'a.txt']);
    explorer.select('/src/index.js');
    expect(explorer.currentDirectory).toBe('/src');
    explorer.select('/src');
    expect(explorer.currentDirectory).toBe('/src');
    explorer.select(null);
    expect(explorer.currentDirectory).toBe('/');
  });

  it('after a reconnect, watches again and reads the listed directories again', async () => {
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    await settle();
    await explorer.toggle('/src');
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await settle();

    // While disconnected, a file appeared and its event was missed.
    ws.drop();
    client.dirs.set('/src', [
      { name: 'index.js', type: 'file' },
      { name: 'new.js', type: 'file' }
    ]);
    client.listed = [];
    await vi.advanceTimersByTimeAsync(50);
    const ws2 = fakes.current();
    expect(ws2).not.toBe(ws);
    ws2.open();
    ws2.acceptJoin();
    await settle();
    expect(
      ws2.sent.some(f => f.event === 'fs-operation' && f.data.type === 'watch')
    ).toBe(true);
    expect(client.listed).toEqual(['/', '/src']);
    expect(rows(explorer)).toEqual(['src', '  index.js', '  new.js', 'a.txt']);
  });

  it('shows the error when the workdir cannot be listed', async () => {
    client.dirs.delete('/');
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    await settle();
    expect(explorer.error).toContain('ENOENT');
  });

  it('keeps one tree per container and ignores pushes of the container it left', async () => {
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    await settle();
    const ws1 = fakes.current();
    ws1.open();
    ws1.acceptJoin();
    client.dirs.set('/', [{ name: 'other.txt', type: 'file' }]);
    explorer.setTarget({ id: 'c2', name: 'two', workdir: '/workspace' });
    await settle();
    expect(rows(explorer)).toEqual(['other.txt']);
    ws1.receive({
      event: 'fs-change',
      data: { path: '/late.txt', kind: 'add' }
    });
    expect(rows(explorer)).toEqual(['other.txt']);
  });

  it('creates the directories of a dropped folder before uploading into them', async () => {
    const sent: string[] = [];
    explorer.dispose();
    explorer = new ExplorerController(
      client as unknown as ContainerClient,
      pool,
      async request => {
        sent.push(request.path);
      }
    );
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    await settle();
    const file = (name: string) => new File(['x'], name);
    const items = await explorer.upload('/src', [
      { file: file('a.css'), relativePath: 'site/css/a.css' },
      { file: file('i.html'), relativePath: 'site/i.html' }
    ]);
    expect(client.mkdirs).toEqual(['/src/site', '/src/site/css']);
    expect(sent.sort()).toEqual(['/src/site/css/a.css', '/src/site/i.html']);
    expect(items.map(i => i.status)).toEqual(['done', 'done']);
  });
});

describe('ExplorerController.reconnecting', () => {
  it('is true only between a lost connection and the next join', async () => {
    vi.useFakeTimers();
    const fakes = socketFactory();
    const pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: fakes.factory,
      random: () => 0,
      backoff: { initial: 100, max: 1000, factor: 2 }
    });
    const client = new ListingClient();
    client.dirs.set('/', []);
    const explorer = new ExplorerController(
      client as unknown as ContainerClient,
      pool
    );
    explorer.setTarget({ id: 'c1', name: 'one', workdir: '/workspace' });
    expect(explorer.reconnecting).toBe(false); // first connection: not a reconnect
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await vi.advanceTimersByTimeAsync(0);
    ws.drop();
    expect(explorer.reconnecting).toBe(true);
    await vi.advanceTimersByTimeAsync(50);
    fakes.current().open();
    fakes.current().acceptJoin();
    expect(explorer.reconnecting).toBe(false);
    explorer.dispose();
    pool.dispose();
    vi.useRealTimers();
  });
});
