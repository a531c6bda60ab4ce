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
import type { FileSystemTree } from './types';
import { asBytes, treeFromWire, treeToWire } from './bytes';
import { INodeError, nodeError, toNodeError } from './errors';
import { FileSystemAPI } from './fs';
import { WebContainerProcess } from './process';
import {
  ClientEvent,
  IPortData,
  IServerReadyData,
  ServerEvent
} from './protocol.generated';
import { call, containerEndpoint, post, query } from './rest';
import { ContainerSocket, IJoinedContainer } from './socket';
import { ITransport, ITransportOptions, createTransport } from './transport';

export { DirEnt, FileSystemAPI } from './fs';
export type { IFSWatcher, IWatchOptions, WatchListener } from './fs';
export { WebContainerProcess } from './process';
export { nodeError, toNodeError, ERRNO } from './errors';
export type { INodeError } from './errors';
export {
  createTransport,
  socketUrl,
  socketProtocols,
  endpointUrl,
  SOCKET_PROTOCOL,
  SOCKET_PROTOCOLS,
  TOKEN_PROTOCOL_PREFIX
} from './transport';
export type { ITransport, ITransportOptions } from './transport';
export { ContainerSocket } from './socket';
export * from './protocol.generated';
export type { FileSystemTree } from './types';

// eslint-disable-next-line @typescript-eslint/naming-convention -- named as in @webcontainer/api, which this client is a drop-in for
export interface BootOptions extends ITransportOptions {
  /** The workdir becomes `/home/<workdirName>`, as in WebContainer. */
  workdirName?: string;
  /** Files to write into the workdir before boot resolves. */
  files?: FileSystemTree;
  /** Use this transport instead of one built from serverUrl/token. */
  transport?: ITransport;
  /**
   * Keep the container when `teardown()` runs (its processes still end and
   * the connection closes). Not in `@webcontainer/api`.
   */
  keepContainer?: boolean;
  /** Accepted for compatibility with `@webcontainer/api`; ignored. */
  coep?: string;
  forwardPreviewErrors?: boolean | string;
}

// eslint-disable-next-line @typescript-eslint/naming-convention -- named as in @webcontainer/api, which this client is a drop-in for
export interface AttachOptions extends ITransportOptions {
  transport?: ITransport;
  /** Keep the container when `teardown()` runs (see BootOptions). */
  keepContainer?: boolean;
  /** The container's workdir, if known (else learnt when the socket joins). */
  workdir?: string;
}

// eslint-disable-next-line @typescript-eslint/naming-convention -- named as in @webcontainer/api, which this client is a drop-in for
export interface SpawnOptions {
  /** Working directory, from the workdir. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string | number | boolean>;
  /** false: the output stream produces no chunks (the process runs as usual). */
  output?: boolean;
  /**
   * The size of the process's terminal. Every process runs on a terminal, as
   * in `@webcontainer/api` (`isTTY` is true, `node` alone starts its REPL),
   * of 80x24 unless told. `false`, not in `@webcontainer/api`: plain pipes
   * and no terminal (no `\r\n` for `\n`, no echo of the input).
   */
  terminal?: { cols: number; rows: number } | false;
}

/** The terminal of a process spawned without a size. */
export const DEFAULT_TERMINAL = { cols: 80, rows: 24 };
/** How long teardown() waits for its processes to end (ms). */
const TEARDOWN_WAIT = 10000;

// eslint-disable-next-line @typescript-eslint/naming-convention -- named as in @webcontainer/api, which this client is a drop-in for
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
      body.files = treeToWire(options.files);
    }
    const answer = await post<{ containerId: string; workdir: string }>(
      transport,
      'webcontainer/boot',
      body
    );
    const container = new WebContainer(
      answer.containerId,
      transport,
      answer.workdir,
      !!options.keepContainer
    );
    // Join now, so that `port` and `server-ready` of the first spawn arrive.
    container._connect().catch(() => undefined);
    return container;
  }

  /** A client of an existing container (created by `boot` or `POST /containers`). */
  static attach(
    containerId: string,
    options: AttachOptions = {}
  ): WebContainer {
    const transport = options.transport ?? createTransport(options);
    return new WebContainer(
      containerId,
      transport,
      options.workdir,
      !!options.keepContainer
    );
  }

  private constructor(
    readonly containerId: string,
    private readonly _transport: ITransport,
    workdir?: string,
    private readonly _keepContainer = false
  ) {
    this._workdir = workdir;
    this.fs = new FileSystemAPI(
      _transport,
      containerId,
      () => this._getSocket(),
      () => this._workdir,
      () => this._check()
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

  /**
   * Write files into the workdir (or under mountPoint): a FileSystemTree
   * (contents as text or `Uint8Array`), or the bytes that
   * `export(path, { format: 'binary' })` gave (a zip archive).
   */
  async mount(
    tree: FileSystemTree | Uint8Array | ArrayBuffer,
    options: { mountPoint?: string } = {}
  ): Promise<void> {
    this._check();
    const archive = asBytes(tree);
    if (archive) {
      const mountPoint = options.mountPoint || undefined;
      await call<void>(
        this._transport,
        this._endpoint(`mount${query({ mountPoint })}`),
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/zip' },
          body: archive as BodyInit
        },
        'none'
      );
      return;
    }
    const body: Record<string, unknown> = {
      tree: treeToWire(tree as FileSystemTree)
    };
    if (options.mountPoint) {
      body.mountPoint = options.mountPoint;
    }
    await post<void>(this._transport, this._endpoint('mount'), body);
  }

  /**
   * A directory as a FileSystemTree (`json`: text files as text, others as
   * `Uint8Array`), or as bytes (`binary`, and `zip`: a zip archive, which
   * `mount` takes back).
   */
  export(
    path: string,
    options?: { format?: 'json' } & ExportOptions
  ): Promise<FileSystemTree>;
  export(
    path: string,
    options: { format: 'zip' | 'binary' } & ExportOptions
  ): Promise<Uint8Array>;
  async export(
    path: string,
    options: ExportOptions = {}
  ): Promise<FileSystemTree | Uint8Array> {
    this._check();
    const format = options.format ?? 'json';
    if (!['json', 'zip', 'binary'].includes(format)) {
      throw nodeError(
        `The "format" option must be 'json', 'binary' or 'zip', not ${JSON.stringify(format)}`,
        'ERR_INVALID_ARG_VALUE'
      );
    }
    const endpoint = this._endpoint(`export${query({ path, format })}`);
    if (format === 'json') {
      return treeFromWire(
        await call<FileSystemTree>(this._transport, endpoint)
      );
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
    if (options.terminal !== false) {
      data.terminal = {
        cols: options.terminal?.cols ?? DEFAULT_TERMINAL.cols,
        rows: options.terminal?.rows ?? DEFAULT_TERMINAL.rows
      };
    }
    if (options.cwd) {
      data.cwd = options.cwd;
    }
    if (options.env) {
      data.env = Object.fromEntries(
        Object.entries(options.env).map(([k, v]) => [k, String(v)])
      );
    }
    let pid: number;
    try {
      const reply = await socket.request<{ pid: number }>(
        ClientEvent.ProcessOperation,
        data
      );
      pid = reply.data!.pid;
    } catch (error) {
      throw toNodeError(error);
    }
    const process = new WebContainerProcess(
      pid,
      async (type, extra) => {
        await socket.request(ClientEvent.ProcessOperation, {
          type,
          pid,
          ...extra
        });
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

  /**
   * Release everything: end this client's processes, stop its watchers, close
   * its connection, and delete the container, unless `keepContainer` (here or
   * at boot/attach) keeps it. Idempotent; the instance and its `fs` are
   * unusable afterwards (`ERR_TORN_DOWN`).
   */
  async teardown(options: { keepContainer?: boolean } = {}): Promise<void> {
    if (this._tornDown) {
      return;
    }
    this._tornDown = true;
    const keep = options.keepContainer ?? this._keepContainer;
    try {
      if (keep) {
        await this._endProcesses();
      } else {
        await call<void>(
          this._transport,
          `webcontainer/${encodeURIComponent(this.containerId)}`,
          { method: 'DELETE' },
          'none'
        );
      }
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

  /** Kill this client's processes and wait (bounded) until they ended. */
  private async _endProcesses(): Promise<void> {
    const running = [...this._processes.values()];
    if (!running.length) {
      return;
    }
    await Promise.allSettled(running.map(process => process.kill()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>(resolve => {
      timer = setTimeout(resolve, TEARDOWN_WAIT);
    });
    await Promise.race([Promise.all(running.map(p => p.exit)), late]);
    clearTimeout(timer);
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
      socket.on(ServerEvent.Port, (data: IPortData) => {
        const url = this._transport.resolveUrl(data.url);
        for (const listener of [...this._listeners.port]) {
          safely(() => listener(data.port, data.type, url));
        }
      }),
      socket.on(ServerEvent.ServerReady, (data: IServerReadyData) => {
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
    const onError = (
      _: unknown,
      error: { message: string; code: string | null }
    ) => this._emitError(error.message, error.code ?? undefined);
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
          this._emitError(
            'The connection to the server was lost',
            'ECONNRESET'
          );
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
    for (const event of [ServerEvent.ProcessOutput, ServerEvent.ProcessExit]) {
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
    if (event === ServerEvent.ProcessOutput) {
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
  private _listeners: { [E in keyof EventListeners]: Set<EventListeners[E]> } =
    {
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
