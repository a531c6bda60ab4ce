/**
 * The side panel's state: the container list (polled, and updated by
 * `container-status` pushes), the selected container, and each container's
 * preview ports (from ContainerInfo.ports and `port` / `server-ready` pushes).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ServerExtensionMissingError } from './api';
import { ContainerClient } from './client';
import { ContainerSocket, ServerEvent } from './socket';
import { SocketPool } from './sockets';
import {
  ContainerStatus,
  ICreateContainerOptions,
  IContainerInfo,
  IPortInfo
} from './types';

/** What a `port` push says. */
export interface IPortEvent {
  port: number;
  type?: 'open' | 'close';
  url?: string;
}

/**
 * The ports of a container: the polled list, plus pushes seen since. A port
 * closed by a push stays hidden until a later poll lists it again.
 */
export function mergePorts(
  polled: IPortInfo[],
  pushed: Map<number, IPortInfo | null>
): IPortInfo[] {
  const byPort = new Map<number, IPortInfo>();
  for (const port of polled) {
    byPort.set(port.port, port);
  }
  for (const [port, info] of pushed) {
    if (info === null) {
      byPort.delete(port);
    } else {
      byPort.set(port, info);
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

export class ContainerManagerModel implements IDisposable {
  constructor(
    readonly client: ContainerClient,
    readonly sockets: SocketPool
  ) {
    sockets.socketCreated.connect((_, socket) => this._watchSocket(socket));
  }

  /** Emitted when the list, the selection, a status or the ports change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with each error of a background refresh (not of user actions). */
  get refreshFailed(): ISignal<this, Error> {
    return this._refreshFailed;
  }

  /** Emitted with `server-ready` pushes: a server just started listening. */
  get serverReady(): ISignal<this, { containerId: string; port: IPortInfo }> {
    return this._serverReady;
  }

  get containers(): readonly IContainerInfo[] {
    return this._containers;
  }

  /** Set once the first list answered. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last refresh error, cleared by a successful one. */
  get error(): Error | null {
    return this._error;
  }

  get selectedId(): string | null {
    return this._selectedId;
  }

  get selected(): IContainerInfo | null {
    return this._containers.find(c => c.id === this._selectedId) ?? null;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  find(id: string): IContainerInfo | undefined {
    return this._containers.find(c => c.id === id);
  }

  select(id: string | null): void {
    if (id === this._selectedId) {
      return;
    }
    this._selectedId = id;
    this._changed.emit();
  }

  /** Preview ports of a container. */
  ports(id: string): IPortInfo[] {
    const info = this.find(id);
    return mergePorts(
      info?.ports ?? [],
      this._pushedPorts.get(id) ?? new Map()
    );
  }

  /** Fetch the list. Errors are kept in `error` and rethrown. */
  async refresh(): Promise<void> {
    try {
      const containers = await this.client.listContainers();
      this._setContainers(containers);
      this._error = null;
      this._loaded = true;
      this._changed.emit();
    } catch (error) {
      this._error = error as Error;
      this._loaded = true;
      this._changed.emit();
      throw error;
    }
  }

  /** Poll the list every `seconds` (0 stops); not while the page is hidden. */
  startPolling(seconds: number): void {
    this.stopPolling();
    if (seconds <= 0) {
      return;
    }
    this._poll = setInterval(() => {
      if (typeof document !== 'undefined' && document.hidden) {
        return;
      }
      // Without the server extension, polling cannot help: Retry does.
      if (this._error instanceof ServerExtensionMissingError) {
        return;
      }
      this.refresh().catch(error => this._refreshFailed.emit(error));
    }, seconds * 1000);
  }

  stopPolling(): void {
    if (this._poll) {
      clearInterval(this._poll);
      this._poll = null;
    }
  }

  async create(options: ICreateContainerOptions): Promise<IContainerInfo> {
    const info = await this.client.createContainer(options);
    this._upsert(info);
    this.select(info.id);
    return info;
  }

  async action(
    id: string,
    action: 'start' | 'stop' | 'restart'
  ): Promise<IContainerInfo> {
    this._pending.set(id, action);
    this._changed.emit();
    try {
      const info = await this.client.containerAction(id, action);
      this._pushedPorts.delete(id);
      this._upsert(info);
      if (action !== 'stop') {
        this._rejoin(id);
      }
      return info;
    } catch (error) {
      await this.refresh().catch(() => undefined);
      throw error;
    } finally {
      this._pending.delete(id);
      this._changed.emit();
    }
  }

  /** The action under way on a container, if any. */
  pendingAction(id: string): 'start' | 'stop' | 'restart' | 'delete' | null {
    return this._pending.get(id) ?? null;
  }

  async remove(id: string): Promise<void> {
    this._pending.set(id, 'delete');
    this._changed.emit();
    try {
      await this.client.deleteContainer(id);
    } finally {
      this._pending.delete(id);
    }
    this.sockets.close(id);
    this._forget(id);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stopPolling();
    Signal.clearData(this);
  }

  private _watchSocket(socket: ContainerSocket): void {
    const id = socket.containerId;
    socket.on(ServerEvent.ContainerStatus, data => {
      const containerId = data.containerId ?? id;
      if (data.status === 'removed' || data.status === 'deleted') {
        this._forget(containerId);
        return;
      }
      if (data.status) {
        const before = this.find(containerId)?.status;
        this._setStatus(containerId, data.status);
        if (before && before !== 'running' && data.status === 'running') {
          // Its watchers and terminals ended with the stop: join again.
          this._rejoin(containerId);
        }
      }
    });
    socket.on(ServerEvent.Port, (data: IPortEvent) => this._onPort(id, data));
    socket.on(ServerEvent.ServerReady, (data: IPortEvent) => {
      const info = this._onPort(id, { ...data, type: 'open' });
      if (info) {
        this._serverReady.emit({ containerId: id, port: info });
      }
    });
  }

  private _onPort(id: string, data: IPortEvent): IPortInfo | null {
    const port = Number(data.port);
    if (!Number.isInteger(port)) {
      return null;
    }
    let pushed = this._pushedPorts.get(id);
    if (!pushed) {
      pushed = new Map();
      this._pushedPorts.set(id, pushed);
    }
    let info: IPortInfo | null = null;
    if (data.type === 'close') {
      pushed.set(port, null);
    } else {
      const known = this.ports(id).find(p => p.port === port);
      info = { port, url: data.url ?? known?.url ?? '' };
      pushed.set(port, info);
    }
    this._changed.emit();
    return info;
  }

  /** A restarted container forgot its sockets: join it again. */
  private _rejoin(id: string): void {
    this.sockets
      .peek(id)
      ?.rejoin()
      .catch(() => undefined);
  }

  private _setContainers(containers: IContainerInfo[]): void {
    // Containers that came back to running (started elsewhere) need a new join.
    for (const info of containers) {
      const before = this.find(info.id);
      if (before && before.status !== 'running' && info.status === 'running') {
        this._rejoin(info.id);
      }
    }
    this._containers = [...containers].sort((a, b) =>
      (a.created ?? '').localeCompare(b.created ?? '')
    );
    // Polled ports are the truth now: keep only pushes newer than this poll.
    this._pushedPorts.clear();
    if (this._selectedId && !this.find(this._selectedId)) {
      this._selectedId = null;
    }
    if (!this._selectedId && this._containers.length > 0) {
      this._selectedId = this._containers[this._containers.length - 1].id;
    }
  }

  private _upsert(info: IContainerInfo): void {
    const index = this._containers.findIndex(c => c.id === info.id);
    if (index >= 0) {
      this._containers = [
        ...this._containers.slice(0, index),
        info,
        ...this._containers.slice(index + 1)
      ];
    } else {
      this._containers = [...this._containers, info];
    }
    this._changed.emit();
  }

  private _setStatus(id: string, status: ContainerStatus): void {
    const info = this.find(id);
    if (!info || info.status === status) {
      return;
    }
    this._upsert({ ...info, status });
  }

  private _forget(id: string): void {
    this._containers = this._containers.filter(c => c.id !== id);
    this._pushedPorts.delete(id);
    if (this._selectedId === id) {
      this._selectedId = this._containers.length
        ? this._containers[this._containers.length - 1].id
        : null;
    }
    this._changed.emit();
  }

  private _pending = new Map<string, 'start' | 'stop' | 'restart' | 'delete'>();
  private _containers: IContainerInfo[] = [];
  private _loaded = false;
  private _error: Error | null = null;
  private _selectedId: string | null = null;
  private _pushedPorts = new Map<string, Map<number, IPortInfo | null>>();
  private _poll: ReturnType<typeof setInterval> | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _refreshFailed = new Signal<this, Error>(this);
  private _serverReady = new Signal<
    this,
    { containerId: string; port: IPortInfo }
  >(this);
}
