/**
 * The WebSocket client of `/container`: JSON frames `{event, id?, data}`,
 * request/reply matched by id, push subscriptions, reconnect with backoff,
 * and, after a reconnect, the container joined again before anything else.
 *
 * A server that speaks protocol version 2 sends process and terminal output
 * as binary frames; they reach the subscribers as the same pushes, `data` a
 * string (./binary).
 *
 * One ContainerSocket serves one container (pushes such as `fs-change` do not
 * name their container, so a socket joins exactly one).
 *
 * Part of the browser WebContainer client: no JupyterLab or Lumino imports
 * (the panel re-exports it from ../socket).
 */
import { messageBytes, OutputFrames } from './binary';
import { disposable, Emitter, IDisposableLike, ISignalLike } from './emitter';
import { ClientEvent, ServerEvent } from './protocol.generated';

type IDisposable = IDisposableLike;

/** One frame on the wire, both ways. */
export interface IFrame<T = any> {
  event: string;
  id?: number | string;
  data?: T;
}

/** The part of the browser WebSocket that the client uses. */
export interface IWebSocketLike {
  readonly readyState: number;
  /** Set to 'arraybuffer': binary frames are read synchronously, in order. */
  binaryType?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => any) | null;
  onclose: ((ev: any) => any) | null;
  onerror: ((ev: any) => any) | null;
  onmessage: ((ev: { data: any }) => any) | null;
}

/** Opens a WebSocket; `protocols` are the subprotocols to offer (none: omit). */
export type WebSocketFactory = (
  url: string,
  protocols?: string[]
) => IWebSocketLike;

/** Connection states of a ContainerSocket. */
export type ConnectionStatus = 'connecting' | 'open' | 'closed' | 'disposed';

/** An `error` reply, or a request that could not complete. */
export class SocketRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | null = null
  ) {
    super(message);
    this.name = 'SocketRequestError';
  }
}

/** What `join-container` answers. */
export interface IJoinedContainer {
  containerId: string;
  status: string;
  cwd?: string;
  terminals?: string[];
}

export interface IBackoff {
  /** First delay in ms. */
  initial: number;
  /** Upper bound of a delay in ms. */
  max: number;
  /** Growth per failed attempt. */
  factor: number;
}

export interface IContainerSocketOptions {
  /** The socket URL, or a function giving it (called on every connect). */
  url: string | (() => string);
  /**
   * Subprotocols to offer on every connect (the browser client offers its
   * token this way, so that it is neither in the URL nor turned into a cookie).
   */
  protocols?: string[] | (() => string[]);
  /** Opens a socket; `new WebSocket(url, protocols)` by default. */
  factory?: WebSocketFactory;
  /** Reconnect delays. */
  backoff?: Partial<IBackoff>;
  /** Milliseconds before a request without reply is rejected (default 60 s). */
  requestTimeout?: number;
  /** Source of jitter in [0, 1); Math.random by default. */
  random?: () => number;
}

const DEFAULT_BACKOFF: IBackoff = { initial: 500, max: 10000, factor: 2 };
const OPEN = 1;

/** The delay before reconnect attempt number `attempt` (0-based). */
export function backoffDelay(
  attempt: number,
  backoff: IBackoff,
  random: () => number = Math.random
): number {
  const raw = Math.min(
    backoff.max,
    backoff.initial * Math.pow(backoff.factor, attempt)
  );
  // Jitter in [raw/2, raw): many tabs do not reconnect in lockstep.
  return Math.round(raw / 2 + (raw / 2) * random());
}

interface IPending {
  resolve: (frame: IFrame) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

type PushHandler = (data: any, frame: IFrame) => void;

/** A hook run after every (re)join, before queued frames are sent. */
export type RejoinHook = (joined: IJoinedContainer) => void;

export class ContainerSocket implements IDisposable {
  constructor(
    readonly containerId: string,
    options: IContainerSocketOptions
  ) {
    this._url = options.url;
    this._protocols = options.protocols ?? [];
    this._factory =
      options.factory ??
      ((url: string, protocols?: string[]) =>
        (protocols?.length
          ? new WebSocket(url, protocols)
          : new WebSocket(url)) as any);
    this._backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this._requestTimeout = options.requestTimeout ?? 60000;
    this._random = options.random ?? Math.random;
  }

  /** Emitted on every connection state change. */
  get statusChanged(): ISignalLike<this, ConnectionStatus> {
    return this._statusChanged;
  }

  /** Emitted after the container is joined again on a new connection. */
  get reconnected(): ISignalLike<this, IJoinedContainer> {
    return this._reconnected;
  }

  /** Emitted with every `error` frame that has no pending request. */
  get errorReceived(): ISignalLike<this, SocketRequestError> {
    return this._errorReceived;
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  /** The last answer of `join-container`, or null before the first. */
  get joined(): IJoinedContainer | null {
    return this._joined;
  }

  get isDisposed(): boolean {
    return this._status === 'disposed';
  }

  /** Open the connection (idempotent) and resolve once the container is joined. */
  connect(): Promise<IJoinedContainer> {
    if (this.isDisposed) {
      return Promise.reject(new SocketRequestError('Socket is disposed'));
    }
    if (this._joined && this._status === 'open' && this._ready) {
      return Promise.resolve(this._joined);
    }
    if (!this._ws) {
      this._open();
    }
    return this._joinedPromise();
  }

  /**
   * Join the container again on the open connection (after it was restarted:
   * the server forgets a stopped container's sockets). Frames sent meanwhile
   * wait for the answer; join hooks run again.
   */
  rejoin(): Promise<IJoinedContainer> {
    if (this.isDisposed) {
      return Promise.reject(new SocketRequestError('Socket is disposed'));
    }
    const ws = this._ws;
    if (!ws || ws.readyState !== OPEN || this._joinId !== null) {
      // Not connected (the next connection joins), or a join is under way.
      return this.connect();
    }
    this._ready = false;
    const joined = this._joinedPromise();
    this._sendJoin(ws);
    return joined;
  }

  /**
   * Send a request and resolve with its reply frame (rejects on `error`).
   * Requests made while disconnected wait for the next connection.
   */
  request<T = any>(
    event: string,
    data: unknown = {},
    options: { timeout?: number } = {}
  ): Promise<IFrame<T>> {
    if (this.isDisposed) {
      return Promise.reject(new SocketRequestError('Socket is disposed'));
    }
    const id = ++this._nextId;
    const frame: IFrame = { event, id, data };
    return new Promise<IFrame<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        this._outbox = this._outbox.filter(f => f !== frame);
        reject(
          new SocketRequestError(
            `No answer to "${event}" from the server`,
            'ETIMEDOUT'
          )
        );
      }, options.timeout ?? this._requestTimeout);
      this._pending.set(id, { resolve: resolve as any, reject, timer });
      this._sendOrQueue(frame);
      if (!this._ws) {
        this._open();
      }
    });
  }

  /** Send a frame without id (fire and forget); queued while disconnected. */
  send(event: string, data: unknown = {}): void {
    if (this.isDisposed) {
      return;
    }
    this._sendOrQueue({ event, data });
    if (!this._ws) {
      this._open();
    }
  }

  /** Subscribe to pushes (frames without a pending id) of one event. */
  on(event: string, handler: PushHandler): IDisposable {
    let handlers = this._handlers.get(event);
    if (!handlers) {
      handlers = new Set();
      this._handlers.set(event, handlers);
    }
    handlers.add(handler);
    return disposable(() => this._handlers.get(event)?.delete(handler));
  }

  /** Run `hook` after every join, the first included, before queued frames. */
  onJoined(hook: RejoinHook): IDisposable {
    this._hooks.add(hook);
    return disposable(() => this._hooks.delete(hook));
  }

  /** Close for good: no reconnect, pending requests rejected. */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._setStatus('disposed');
    if (this._retryTimer) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    this._rejectPending(new SocketRequestError('Socket is disposed'));
    this._outbox = [];
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
      try {
        ws.close(1000, 'disposed');
      } catch {
        // already closed
      }
    }
    for (const waiter of this._joinWaiters) {
      waiter.reject(new SocketRequestError('Socket is disposed'));
    }
    this._joinWaiters = [];
    this._handlers.clear();
    this._hooks.clear();
    this._statusChanged.clear();
    this._reconnected.clear();
    this._errorReceived.clear();
  }

  private _joinedPromise(): Promise<IJoinedContainer> {
    return new Promise((resolve, reject) => {
      this._joinWaiters.push({ resolve, reject });
    });
  }

  private _open(): void {
    const url = typeof this._url === 'function' ? this._url() : this._url;
    const protocols =
      typeof this._protocols === 'function'
        ? this._protocols()
        : this._protocols;
    this._ready = false;
    this._setStatus('connecting');
    let ws: IWebSocketLike;
    try {
      ws = protocols.length
        ? this._factory(url, protocols)
        : this._factory(url);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    this._outputFrames.clear();
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // a socket that only ever gets text
    }
    ws.onopen = () => this._onOpen(ws);
    ws.onmessage = ev => this._onMessage(ws, ev.data);
    ws.onclose = () => this._onClose(ws);
    ws.onerror = () => {
      // onclose follows and handles the retry
    };
  }

  private _onOpen(ws: IWebSocketLike): void {
    if (ws !== this._ws) {
      return;
    }
    this._attempt = 0;
    this._setStatus('open');
    this._sendJoin(ws);
  }

  private _sendJoin(ws: IWebSocketLike): void {
    const joinId = ++this._nextId;
    this._joinId = joinId;
    ws.send(
      JSON.stringify({
        event: ClientEvent.JoinContainer,
        id: joinId,
        data: { containerId: this.containerId }
      })
    );
  }

  private _onJoinReply(frame: IFrame): void {
    this._joinId = null;
    if (frame.event === ServerEvent.Error) {
      const error = new SocketRequestError(
        frame.data?.message ?? 'Could not join the container',
        frame.data?.code ?? null
      );
      for (const waiter of this._joinWaiters) {
        waiter.reject(error);
      }
      this._joinWaiters = [];
      this._errorReceived.emit(error);
    } else {
      const joined: IJoinedContainer = {
        containerId: this.containerId,
        status: 'running',
        ...(frame.data ?? {})
      };
      const rejoin = this._joined !== null;
      this._joined = joined;
      // Frames the hooks send (re-watch, re-open ptys) go before the queue.
      const queued = this._outbox;
      this._outbox = [];
      for (const hook of [...this._hooks]) {
        try {
          hook(joined);
        } catch (error) {
          console.error('jupyter-container-manager: rejoin hook failed', error);
        }
      }
      this._outbox = [...this._outbox, ...queued];
      for (const waiter of this._joinWaiters) {
        waiter.resolve(joined);
      }
      this._joinWaiters = [];
      if (rejoin) {
        this._reconnected.emit(joined);
      }
    }
    // Whatever the join gave, queued frames go now; failures come back as errors.
    this._ready = true;
    this._flush();
  }

  private _onMessage(ws: IWebSocketLike, raw: any): void {
    if (ws !== this._ws) {
      return;
    }
    const bytes = typeof raw === 'string' ? null : messageBytes(raw);
    if (bytes) {
      const output = this._outputFrames.decode(bytes);
      if (output) {
        this._dispatch(output);
      }
      return;
    }
    let frame: IFrame;
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      console.warn('jupyter-container-manager: a frame that is not JSON');
      return;
    }
    if (!frame || typeof frame.event !== 'string') {
      return;
    }
    if (frame.id !== undefined && frame.id !== null) {
      const id = Number(frame.id);
      if (id === this._joinId) {
        this._onJoinReply(frame);
        return;
      }
      const pending = this._pending.get(id);
      if (pending) {
        this._pending.delete(id);
        clearTimeout(pending.timer);
        if (frame.event === ServerEvent.Error) {
          pending.reject(
            new SocketRequestError(
              frame.data?.message ?? 'Request failed',
              frame.data?.code ?? null
            )
          );
        } else {
          pending.resolve(frame);
        }
        return;
      }
    }
    if (frame.event === ServerEvent.Error) {
      this._errorReceived.emit(
        new SocketRequestError(
          frame.data?.message ?? 'Server error',
          frame.data?.code ?? null
        )
      );
    }
    const tail = this._outputFrames.ended(frame.event, frame.data);
    if (tail) {
      this._dispatch(tail); // the rest of its output before its end
    }
    this._dispatch(frame);
  }

  private _dispatch(frame: IFrame): void {
    const handlers = this._handlers.get(frame.event);
    if (handlers) {
      for (const handler of [...handlers]) {
        try {
          handler(frame.data ?? {}, frame);
        } catch (error) {
          console.error(
            'jupyter-container-manager: push handler failed',
            error
          );
        }
      }
    }
  }

  private _onClose(ws: IWebSocketLike): void {
    if (ws !== this._ws) {
      return;
    }
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    this._ws = null;
    this._ready = false;
    this._joinId = null;
    this._rejectPending(
      new SocketRequestError(
        'The connection to the server was lost',
        'ECONNRESET'
      )
    );
    if (this.isDisposed) {
      return;
    }
    this._setStatus('closed');
    this._scheduleReconnect();
  }

  private _scheduleReconnect(): void {
    if (this.isDisposed || this._retryTimer) {
      return;
    }
    const delay = backoffDelay(this._attempt, this._backoff, this._random);
    this._attempt += 1;
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (!this.isDisposed && !this._ws) {
        this._open();
      }
    }, delay);
  }

  private _sendOrQueue(frame: IFrame): void {
    if (this._ws && this._ws.readyState === OPEN && this._ready) {
      this._ws.send(JSON.stringify(frame));
    } else {
      this._outbox.push(frame);
    }
  }

  private _flush(): void {
    const ws = this._ws;
    if (!ws) {
      return;
    }
    const outbox = this._outbox;
    this._outbox = [];
    for (const frame of outbox) {
      ws.send(JSON.stringify(frame));
    }
  }

  private _rejectPending(error: Error): void {
    // Requests still in the outbox were never sent: they wait for the next
    // connection. Those already sent cannot be answered any more.
    const queued = new Set(
      this._outbox.map(frame => frame.id).filter(id => id !== undefined)
    );
    for (const [id, pending] of [...this._pending]) {
      if (queued.has(id)) {
        continue;
      }
      this._pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    if (this.isDisposed) {
      for (const [, pending] of this._pending) {
        clearTimeout(pending.timer);
        pending.reject(error);
      }
      this._pending.clear();
    }
  }

  private _setStatus(status: ConnectionStatus): void {
    if (this._status === status) {
      return;
    }
    this._status = status;
    this._statusChanged.emit(status);
  }

  private _url: string | (() => string);
  private _protocols: string[] | (() => string[]);
  private _factory: WebSocketFactory;
  private _backoff: IBackoff;
  private _requestTimeout: number;
  private _random: () => number;
  private _ws: IWebSocketLike | null = null;
  private _status: ConnectionStatus = 'closed';
  private _ready = false;
  private _attempt = 0;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _nextId = 0;
  private _joinId: number | null = null;
  private _joined: IJoinedContainer | null = null;
  private _joinWaiters: {
    resolve: (joined: IJoinedContainer) => void;
    reject: (error: Error) => void;
  }[] = [];
  private _pending = new Map<number, IPending>();
  private _outputFrames = new OutputFrames();
  private _outbox: IFrame[] = [];
  private _handlers = new Map<string, Set<PushHandler>>();
  private _hooks = new Set<RejoinHook>();
  private _statusChanged = new Emitter<this, ConnectionStatus>(this);
  private _reconnected = new Emitter<this, IJoinedContainer>(this);
  private _errorReceived = new Emitter<this, SocketRequestError>(this);
}
