/**
 * A browser client with the surface of `@webcontainer/api`, backed by a
 * jupyter-container-manager server: the container is a real Docker container
 * (any language, real npm), files and processes go over the server's REST
 * routes and its `/container` WebSocket.
 *
 *     import { WebContainer } from '<server>/webcontainer-client/webcontainer.js';
 *     const wc = await WebContainer.boot({ serverUrl, token });
 *
 * No JupyterLab or Lumino imports here: this is also a standalone ES module.
 */
import type { FileSystemTree } from '../types';
import { INodeError, nodeError, toNodeError } from './errors';
import { FileSystemAPI } from './fs';
import { WebContainerProcess } from './process';
import { call, containerEndpoint, post, query } from './rest';
import { ContainerSocket, IJoinedContainer } from './socket';
import { ITransport, ITransportOptions, createTransport } from './transport';

export { DirEnt, FileSystemAPI } from './fs';
export type { IFSWatcher, IWatchOptions, WatchListener } from './fs';
export { WebContainerProcess } from './process';
export { nodeError, toNodeError, ERRNO } from './errors';
export type { INodeError } from './errors';
export { createTransport, socketUrl, endpointUrl } from './transport';
export type { ITransport, ITransportOptions } from './transport';
export { ContainerSocket } from './socket';
export type { FileSystemTree } from '../types';

export interface BootOptions extends ITransportOptions {
  /** The workdir becomes `/home/<workdirName>`, as in WebContainer. */
  workdirName?: string;
  /** Files to write into the workdir before boot resolves. */
  files?: FileSystemTree;
  /** Use this transport instead of one built from serverUrl/token. */
  transport?: ITransport;
  /** Accepted for compatibility with `@webcontainer/api`; ignored. */
  coep?: string;
  forwardPreviewErrors?: boolean | string;
}

export interface AttachOptions extends ITransportOptions {
  transport?: ITransport;
  /** The container's workdir, if known (else learnt when the socket joins). */
  workdir?: string;
}

export interface SpawnOptions {
  /** Working directory, from the workdir. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string | number | boolean>;
  /** false: do not keep the output (the stream stays empty). */
  output?: boolean;
  /** Run on a pseudo-terminal of this size. */
  terminal?: { cols: number; rows: number };
}

export interface ExportOptions {
  format?: 'json' | 'zip' | 'binary';
  /** Accepted for compatibility; the server exports everything under path. */
  includes?: string[];
  excludes?: string[];
}

export type PortListener = (
  port: number,
  type: 'open' | 'close',
  url: string
) => void;
export type ServerReadyListener = (port: number, url: string) => void;
export type ErrorListener = (error: { message: string; code?: string }) => void;
export type Unsubscribe = () => void;

type EventListeners = {
  port: PortListener;
  'server-ready': ServerReadyListener;
  error: ErrorListener;
};

/** One container. Unlike `@webcontainer/api`, several may be booted at once. */
export class WebContainer {
  /**
   * Create a container on the server (`POST /webcontainer/boot`) and
   * connect to it.
   */
  static async boot(options: BootOptions = {}): Promise<WebContainer> {
    const transport = options.transport ?? createTransport(options);
    const body: Record<string, unknown> = {};
    if (options.workdirName) {
      body.workdirName = options.workdirName;
    }
    if (options.files) {
      body.files = options.files;
    }
    const answer = await post<{ containerId: string; workdir: string }>(
      transport,
      'webcontainer/boot',
      body
    );
    const container = new WebContainer(
      answer.containerId,
      transport,
      answer.workdir
    );
    // Join now, so that `port` and `server-ready` of the first spawn arrive.
    container._connect().catch(() => undefined);
    return container;
  }

  /** A client of an existing container (created by `boot` or `POST /containers`). */
  static attach(containerId: string, options: AttachOptions = {}): WebContainer {
    const transport = options.transport ?? createTransport(options);
    return new WebContainer(containerId, transport, options.workdir);
  }

  private constructor(
    readonly containerId: string,
    private readonly _transport: ITransport,
    workdir?: string
  ) {
    this._workdir = workdir;
    this.fs = new FileSystemAPI(
      _transport,
      containerId,
      () => this._getSocket(),
      () => this._workdir
    );
  }

  /** Node's fs.promises subset: readFile, writeFile, readdir, mkdir, rm, rename, watch. */
  readonly fs: FileSystemAPI;

  /** The absolute path of the workdir in the container ('' until known). */
  get workdir(): string {
    return this._workdir ?? '';
  }

  /** Has teardown() run? */
  get isTornDown(): boolean {
    return this._tornDown;
  }

  /** Write a FileSystemTree into the workdir (or under mountPoint). */
  async mount(
    tree: FileSystemTree,
    options: { mountPoint?: string } = {}
  ): Promise<void> {
    this._check();
    const body: Record<string, unknown> = { tree };
    if (options.mountPoint) {
      body.mountPoint = options.mountPoint;
    }
    await post<void>(this._transport, this._endpoint('mount'), body);
  }

  /** A directory as a FileSystemTree (`json`) or a zip archive (`zip`/`binary`). */
  export(path: string, options?: { format?: 'json' } & ExportOptions): Promise<FileSystemTree>;
  export(path: string, options: { format: 'zip' | 'binary' } & ExportOptions): Promise<Uint8Array>;
  async export(
    path: string,
    options: ExportOptions = {}
  ): Promise<FileSystemTree | Uint8Array> {
    this._check();
    const format = options.format === 'json' || !options.format ? 'json' : 'zip';
    const endpoint = this._endpoint(`export${query({ path, format })}`);
    if (format === 'json') {
      return call<FileSystemTree>(this._transport, endpoint);
    }
    return call<Uint8Array>(this._transport, endpoint, {}, 'bytes');
  }

  /**
   * Start a process (argv, no shell): `spawn('node', ['server.js'])`, or
   * `spawn('npm', ['install'], { cwd })`. Resolves once it runs.
   */
  spawn(command: string, options?: SpawnOptions): Promise<WebContainerProcess>;
  spawn(
    command: string,
    args: string[],
    options?: SpawnOptions
  ): Promise<WebContainerProcess>;
  async spawn(
    command: string,
    argsOrOptions?: string[] | SpawnOptions,
    maybeOptions?: SpawnOptions
  ): Promise<WebContainerProcess> {
    this._check();
    const args = Array.isArray(argsOrOptions) ? argsOrOptions : [];
    const options =
      (Array.isArray(argsOrOptions) ? maybeOptions : argsOrOptions) ?? {};
    const socket = this._getSocket();
    this._routeProcesses(socket);
    const data: Record<string, unknown> = { type: 'spawn', command, args };
    if (options.cwd) {
      data.cwd = options.cwd;
    }
    if (options.env) {
      data.env = Object.fromEntries(
        Object.entries(options.env).map(([k, v]) => [k, String(v)])
      );
    }
    if (options.terminal) {
      data.terminal = options.terminal;
    }
    let pid: number;
    try {
      const reply = await socket.request<{ pid: number }>(
        'process-operation',
        data
      );
      pid = reply.data!.pid;
    } catch (error) {
      throw toNodeError(error);
    }
    const process = new WebContainerProcess(
      pid,
      async (type, extra) => {
        await socket.request('process-operation', { type, pid, ...extra });
      },
      options.output !== false
    );
    this._processes.set(pid, process);
    // Pushes that raced the reply.
    for (const frame of this._early.get(pid) ?? []) {
      this._dispatchProcess(frame.event, frame.data);
    }
    this._early.delete(pid);
    process.exit.then(() => this._processes.delete(pid));
    return process;
  }

  /**
   * Listen to `port` (port, 'open' | 'close', url), `server-ready`
   * (port, url) or `error` ({message}); returns the function that unsubscribes.
   * URLs are absolute preview URLs through the Jupyter proxy.
   */
  on<E extends keyof EventListeners>(
    event: E,
    listener: EventListeners[E]
  ): Unsubscribe {
    if (!(event in this._listeners)) {
      throw nodeError(`Unknown event "${String(event)}"`, 'EINVAL');
    }
    const listeners = this._listeners[event] as Set<EventListeners[E]>;
    listeners.add(listener);
    if (!this._tornDown) {
      this._getSocket();
    }
    return () => {
      listeners.delete(listener);
    };
  }

  /** The absolute preview URL of a container port. */
  async previewUrl(port: number): Promise<string> {
    this._check();
    const answer = await call<{ port: number; url: string }>(
      this._transport,
      this._endpoint(`url${query({ port })}`)
    );
    return this._transport.resolveUrl(answer.url);
  }

  /** Delete the container and close the connection. Idempotent. */
  async teardown(): Promise<void> {
    if (this._tornDown) {
      return;
    }
    this._tornDown = true;
    try {
      await call<void>(
        this._transport,
        `webcontainer/${encodeURIComponent(this.containerId)}`,
        { method: 'DELETE' },
        'none'
      );
    } catch (error) {
      if ((error as INodeError).status !== 404) {
        this._tornDown = false;
        throw error;
      }
    } finally {
      if (this._tornDown) {
        this._close();
      }
    }
  }

  /** Close the connection without deleting the container. */
  dispose(): void {
    this._close();
  }

  private _close(): void {
    this.fs.dispose();
    for (const process of this._processes.values()) {
      process.finish(-1);
    }
    this._processes.clear();
    for (const subscription of this._subscriptions) {
      subscription.dispose();
    }
    this._subscriptions = [];
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      if (this._transport.releaseSocket) {
        this._transport.releaseSocket(socket);
      } else {
        socket.dispose();
      }
    }
    for (const set of Object.values(this._listeners)) {
      set.clear();
    }
  }

  private _endpoint(rest: string): string {
    return containerEndpoint(this.containerId, rest);
  }

  private _check(): void {
    if (this._tornDown) {
      throw nodeError(
        `This WebContainer (${this.containerId}) was torn down`,
        'ERR_TORN_DOWN'
      );
    }
  }

  private _connect(): Promise<IJoinedContainer> {
    return this._getSocket().connect();
  }

  private _getSocket(): ContainerSocket {
    if (this._socket && !this._socket.isDisposed) {
      return this._socket;
    }
    const socket = this._transport.socket(this.containerId);
    this._socket = socket;
    this._processesRouted = false;
    const subscriptions = [
      socket.on('port', (data: { port: number; type: 'open' | 'close'; url: string }) => {
        const url = this._transport.resolveUrl(data.url);
        for (const listener of [...this._listeners.port]) {
          safely(() => listener(data.port, data.type, url));
        }
      }),
      socket.on('server-ready', (data: { port: number; url: string }) => {
        const url = this._transport.resolveUrl(data.url);
        for (const listener of [...this._listeners['server-ready']]) {
          safely(() => listener(data.port, url));
        }
      }),
      socket.onJoined(joined => {
        const workdir = (joined as { workdir?: string }).workdir;
        if (workdir) {
          this._workdir = workdir;
        }
      })
    ];
    const onError = (_: unknown, error: { message: string; code: string | null }) =>
      this._emitError(error.message, error.code ?? undefined);
    socket.errorReceived.connect(onError);
    let wasOpen = socket.status === 'open';
    const onStatus = (_: unknown, status: string) => {
      if (status === 'open') {
        wasOpen = true;
      } else if (status === 'closed' && wasOpen) {
        // Once per lost connection, not per failed reconnect attempt.
        wasOpen = false;
        // The server ends the processes of a socket that closed.
        for (const process of this._processes.values()) {
          process.finish(-1);
        }
        this._processes.clear();
        if (!this._tornDown) {
          this._emitError('The connection to the server was lost', 'ECONNRESET');
        }
      }
    };
    socket.statusChanged.connect(onStatus);
    this._subscriptions = [
      ...subscriptions,
      {
        dispose: () => {
          socket.errorReceived.disconnect(onError);
          socket.statusChanged.disconnect(onStatus);
        }
      }
    ];
    socket.connect().catch(error => {
      const converted = toNodeError(error);
      this._emitError(converted.message, converted.code);
    });
    return socket;
  }

  private _routeProcesses(socket: ContainerSocket): void {
    if (this._processesRouted) {
      return;
    }
    this._processesRouted = true;
    for (const event of ['process-output', 'process-exit']) {
      this._subscriptions.push(
        socket.on(event, data => this._dispatchProcess(event, data))
      );
    }
  }

  private _dispatchProcess(event: string, data: any): void {
    const process = this._processes.get(data?.pid);
    if (!process) {
      const early = this._early.get(data?.pid) ?? [];
      early.push({ event, data });
      this._early.set(data?.pid, early.slice(-1000));
      return;
    }
    if (event === 'process-output') {
      process.push(String(data.data ?? ''));
    } else {
      process.finish(typeof data.exitCode === 'number' ? data.exitCode : -1);
    }
  }

  private _emitError(message: string, code?: string): void {
    for (const listener of [...this._listeners.error]) {
      safely(() => listener({ message, code }));
    }
  }

  private _workdir: string | undefined;
  private _socket: ContainerSocket | null = null;
  private _subscriptions: { dispose(): void }[] = [];
  private _processes = new Map<number, WebContainerProcess>();
  private _early = new Map<number, { event: string; data: any }[]>();
  private _processesRouted = false;
  private _tornDown = false;
  private _listeners: { [E in keyof EventListeners]: Set<EventListeners[E]> } = {
    port: new Set(),
    'server-ready': new Set(),
    error: new Set()
  };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    console.error(error);
  }
}
