import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { ServerExtensionMissingError } from '../src/api';
import { ContainerClient } from '../src/client';
import { ContainerManagerModel, mergePorts } from '../src/model';
import { SocketPool } from '../src/sockets';
import { IContainerInfo } from '../src/types';
import { socketFactory } from './fakes';

const info = (
  id: string,
  extra: Partial<IContainerInfo> = {}
): IContainerInfo => ({
  id,
  name: `c-${id}`,
  image: 'jupyter-container-manager/node:24',
  status: 'running',
  created: `2026-01-0${id.length}T00:00:00Z`,
  owner: 'ann',
  workdir: '/workspace',
  ports: [],
  ...extra
});

/** A client whose answers the test sets; the model needs only these calls. */
class ScriptedClient {
  list: IContainerInfo[] = [];
  listError: Error | null = null;
  deleted: string[] = [];
  async listContainers() {
    if (this.listError) {
      throw this.listError;
    }
    return this.list;
  }
  async createContainer(options: { name?: string }) {
    return info('new', { name: options.name ?? 'new' });
  }
  async containerAction(id: string, action: string) {
    return info(id, { status: action === 'stop' ? 'stopped' : 'running' });
  }
  async deleteContainer(id: string) {
    this.deleted.push(id);
  }
}

describe('mergePorts', () => {
  it('adds pushed ports to polled ones and hides ports closed by a push', () => {
    const pushed = new Map([
      [5173, { port: 5173, url: '/containers/x/proxy/5173/' }],
      [3000, null]
    ]);
    expect(
      mergePorts(
        [
          { port: 8080, url: '/containers/x/proxy/8080/' },
          { port: 3000, url: '/containers/x/proxy/3000/' }
        ],
        pushed
      )
    ).toEqual([
      { port: 5173, url: '/containers/x/proxy/5173/' },
      { port: 8080, url: '/containers/x/proxy/8080/' }
    ]);
  });
});

describe('ContainerManagerModel', () => {
  let fakes: ReturnType<typeof socketFactory>;
  let pool: SocketPool;
  let client: ScriptedClient;
  let model: ContainerManagerModel;

  beforeEach(() => {
    fakes = socketFactory();
    pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: fakes.factory
    });
    client = new ScriptedClient();
    model = new ContainerManagerModel(
      client as unknown as ContainerClient,
      pool
    );
  });

  afterEach(() => {
    model.dispose();
    pool.dispose();
    vi.useRealTimers();
  });

  it('lists containers oldest first and selects the newest', async () => {
    client.list = [info('bb'), info('a'), info('ccc')];
    await model.refresh();
    expect(model.containers.map(c => c.id)).toEqual(['a', 'bb', 'ccc']);
    expect(model.selectedId).toBe('ccc');
    expect(model.loaded).toBe(true);
  });

  it('keeps the error of a failed refresh until one succeeds', async () => {
    client.listError = new Error('The Docker engine is not reachable');
    await expect(model.refresh()).rejects.toThrow('not reachable');
    expect(model.error?.message).toBe('The Docker engine is not reachable');
    client.listError = null;
    client.list = [info('a')];
    await model.refresh();
    expect(model.error).toBeNull();
  });

  it('follows container-status pushes on the container socket', async () => {
    client.list = [info('a')];
    await model.refresh();
    const socket = pool.get('a');
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await socket.connect();
    ws.receive({
      event: 'container-status',
      data: { containerId: 'a', status: 'exited' }
    });
    expect(model.find('a')?.status).toBe('exited');
  });

  it('adds a port from port/server-ready pushes and drops it on close', async () => {
    client.list = [
      info('a', { ports: [{ port: 8080, url: '/containers/a/proxy/8080/' }] })
    ];
    await model.refresh();
    const ready = vi.fn();
    model.serverReady.connect((_, args) => ready(args));
    pool.get('a');
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    ws.receive({
      event: 'port',
      data: { port: 3000, type: 'open', url: '/containers/a/proxy/3000/' }
    });
    ws.receive({
      event: 'server-ready',
      data: { port: 3000, url: '/containers/a/proxy/3000/' }
    });
    expect(model.ports('a').map(p => p.port)).toEqual([3000, 8080]);
    expect(ready).toHaveBeenCalledWith({
      containerId: 'a',
      port: { port: 3000, url: '/containers/a/proxy/3000/' }
    });
    ws.receive({ event: 'port', data: { port: 8080, type: 'close' } });
    expect(model.ports('a').map(p => p.port)).toEqual([3000]);
  });

  it('selects a created container, updates after actions, forgets a deleted one', async () => {
    client.list = [info('a')];
    await model.refresh();
    const created = await model.create({ name: 'web' });
    expect(model.selectedId).toBe(created.id);
    await model.action('a', 'stop');
    expect(model.find('a')?.status).toBe('stopped');
    pool.get('new');
    await model.remove('new');
    expect(client.deleted).toEqual(['new']);
    expect(model.find('new')).toBeUndefined();
    expect(pool.peek('new')).toBeUndefined();
    expect(model.selectedId).toBe('a');
  });

  it('polls the list on an interval', async () => {
    vi.useFakeTimers();
    client.list = [];
    model.startPolling(5);
    client.list = [info('a')];
    await vi.advanceTimersByTimeAsync(5000);
    expect(model.containers.map(c => c.id)).toEqual(['a']);
    model.stopPolling();
    client.list = [];
    await vi.advanceTimersByTimeAsync(20000);
    expect(model.containers.map(c => c.id)).toEqual(['a']);
  });
});

describe('ContainerManagerModel after a restart', () => {
  it('joins the container socket again when the container is running again', async () => {
    const fakes = socketFactory();
    const pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: fakes.factory
    });
    const client = new ScriptedClient();
    const model = new ContainerManagerModel(
      client as unknown as ContainerClient,
      pool
    );
    client.list = [info('a')];
    await model.refresh();
    const socket = pool.get('a');
    const ws = fakes.current();
    ws.open();
    ws.acceptJoin();
    await socket.connect();
    const joins = () =>
      ws.sent.filter(f => f.event === 'join-container').length;

    await model.action('a', 'stop');
    expect(joins()).toBe(1);
    await model.action('a', 'start');
    expect(joins()).toBe(2);
    ws.acceptJoin();

    // Started elsewhere: the poll sees it running again.
    client.list = [info('a', { status: 'exited' })];
    await model.refresh();
    client.list = [info('a')];
    await model.refresh();
    expect(joins()).toBe(3);
    model.dispose();
    pool.dispose();
  });
});

describe('ContainerManagerModel pending actions', () => {
  it('marks an action under way and keeps the status until the server answers', async () => {
    const pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: socketFactory().factory
    });
    const client = new ScriptedClient();
    let finish: () => void = () => undefined;
    client.containerAction = (id: string) =>
      new Promise(resolve => {
        finish = () => resolve(info(id, { status: 'stopped' }));
      });
    const model = new ContainerManagerModel(
      client as unknown as ContainerClient,
      pool
    );
    client.list = [info('a')];
    await model.refresh();
    const stopping = model.action('a', 'stop');
    expect(model.pendingAction('a')).toBe('stop');
    expect(model.find('a')?.status).toBe('running');
    finish();
    await stopping;
    expect(model.pendingAction('a')).toBeNull();
    expect(model.find('a')?.status).toBe('stopped');
    model.dispose();
    pool.dispose();
  });
});

describe('ContainerManagerModel without the server extension', () => {
  it('stops polling until a manual refresh succeeds', async () => {
    vi.useFakeTimers();
    const pool = new SocketPool({
      url: () => 'ws://s/container',
      factory: socketFactory().factory
    });
    const client = new ScriptedClient();
    let calls = 0;
    client.listContainers = async () => {
      calls++;
      throw new ServerExtensionMissingError();
    };
    const model = new ContainerManagerModel(
      client as unknown as ContainerClient,
      pool
    );
    await model.refresh().catch(() => undefined);
    model.startPolling(5);
    await vi.advanceTimersByTimeAsync(30000);
    expect(calls).toBe(1);
    expect(model.error).toBeInstanceOf(ServerExtensionMissingError);
    model.dispose();
    pool.dispose();
    vi.useRealTimers();
  });
});
