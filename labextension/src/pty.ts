/**
 * A PTY terminal in a container, over a ContainerSocket: `pty-open`,
 * `pty-input`, `pty-resize`, and the `pty-output` / `pty-exit` pushes.
 *
 * The terminal lives in the container, not in this object: after a reconnect
 * (or a page reload, given the remembered id) `pty-open` with the same
 * `terminalId` re-attaches, and the server replays recent output.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ClientEvent, ContainerSocket, ServerEvent } from './socket';

export interface IPtySize {
  cols: number;
  rows: number;
}

export class PtySession implements IDisposable {
  constructor(
    readonly socket: ContainerSocket,
    options: IPtySize & { terminalId?: string | null }
  ) {
    this._size = { cols: options.cols, rows: options.rows };
    this._terminalId = options.terminalId ?? null;
    this._subscriptions.push(
      socket.on(ServerEvent.PtyOutput, data => {
        if (data.terminalId === this._terminalId && this._attached) {
          this._output.emit(String(data.data ?? ''));
        } else if (this._opening && typeof data.terminalId === 'string') {
          // Output of a terminal being opened may come before its id does.
          const early = this._early.get(data.terminalId) ?? [];
          early.push(String(data.data ?? ''));
          this._early.set(data.terminalId, early);
        }
      }),
      socket.on(ServerEvent.PtyExit, data => {
        if (data.terminalId === this._terminalId) {
          this._exitCode = data.exitCode ?? null;
          this._attached = false;
          this._exited.emit(this._exitCode ?? null);
        }
      }),
      socket.onJoined(() => {
        // A new connection (after the first open): attach again.
        if (this._terminalId && this._opened && !this.hasExited) {
          void this.reattach();
        }
      })
    );
  }

  /** Output of the terminal, replayed output included. */
  get output(): ISignal<this, string> {
    return this._output;
  }

  /** Emitted when the shell ends, with its exit code. */
  get exited(): ISignal<this, number | null> {
    return this._exited;
  }

  /**
   * Emitted just before the terminal is attached again (reconnect): the server
   * replays its recent output, so a view should clear what it shows.
   */
  get reattaching(): ISignal<this, void> {
    return this._reattaching;
  }

  /** Emitted with the id once the terminal is open (and on every re-attach). */
  get opened(): ISignal<this, string> {
    return this._openedSignal;
  }

  get terminalId(): string | null {
    return this._terminalId;
  }

  get size(): IPtySize {
    return { ...this._size };
  }

  get hasExited(): boolean {
    return this._exitCode !== undefined;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Open the terminal: a new one, or the remembered one re-attached. A
   * remembered id the server no longer knows gives a new terminal.
   */
  async open(): Promise<string> {
    await this.socket.connect();
    this._opened = true;
    return this._openWith(this._terminalId);
  }

  /** Keystrokes or pasted text. */
  write(data: string): void {
    if (!this._terminalId || this.hasExited || this._isDisposed) {
      return;
    }
    this.socket.send(ClientEvent.PtyInput, {
      terminalId: this._terminalId,
      data
    });
  }

  /** Resize; repeated sizes are not sent again. */
  resize(cols: number, rows: number): void {
    if (cols < 1 || rows < 1) {
      return;
    }
    if (cols === this._size.cols && rows === this._size.rows) {
      return;
    }
    this._size = { cols, rows };
    if (this._terminalId && this._attached && !this.hasExited) {
      this.socket.send(ClientEvent.PtyResize, {
        terminalId: this._terminalId,
        cols,
        rows
      });
    }
  }

  /**
   * Detach this socket from the terminal (`pty-close`); with `kill`, end its
   * shell. Later input is not sent.
   */
  close(kill = false): void {
    if (this._terminalId && !this.hasExited && !this._isDisposed) {
      this.socket.send(ClientEvent.PtyClose, {
        terminalId: this._terminalId,
        kill
      });
    }
    this._attached = false;
    this._exitCode = this._exitCode ?? null;
  }

  /** Detach this view; the terminal itself goes on in the container. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const subscription of this._subscriptions) {
      subscription.dispose();
    }
    this._subscriptions = [];
    Signal.clearData(this);
  }

  /**
   * Attach again to the same terminal (the server replays its recent output);
   * `reattaching` is emitted first so a view can clear what it shows.
   */
  async reattach(): Promise<void> {
    if (!this._terminalId || this.hasExited || this._isDisposed) {
      return;
    }
    this._attached = false;
    this._reattaching.emit();
    try {
      await this._openWith(this._terminalId);
    } catch (error) {
      console.error(
        'jupyter-container-manager: terminal re-attach failed',
        error
      );
    }
  }

  private async _openWith(terminalId: string | null): Promise<string> {
    const data: Record<string, unknown> = { ...this._size };
    if (terminalId) {
      data.terminalId = terminalId;
    }
    // Attach before the reply: replayed output may arrive first.
    this._terminalId = terminalId;
    this._attached = terminalId !== null;
    let reply;
    this._opening = true;
    this._early.clear();
    try {
      try {
        reply = await this.socket.request(ClientEvent.PtyOpen, data);
      } catch (error) {
        if (!terminalId) {
          throw error;
        }
        // The remembered terminal is gone (container restarted): open a new one.
        this._attached = false;
        this._terminalId = null;
        reply = await this.socket.request(ClientEvent.PtyOpen, {
          ...this._size
        });
      }
    } finally {
      this._opening = false;
    }
    const id = String(reply.data?.terminalId ?? '');
    const early = this._early.get(id) ?? [];
    this._early.clear();
    if (!id) {
      throw new Error('The server opened a terminal without an id');
    }
    this._terminalId = id;
    this._attached = true;
    for (const chunk of early) {
      this._output.emit(chunk);
    }
    this._openedSignal.emit(id);
    return id;
  }

  private _size: IPtySize;
  private _terminalId: string | null;
  private _attached = false;
  private _opening = false;
  private _early = new Map<string, string[]>();
  private _opened = false;
  private _exitCode: number | null | undefined = undefined;
  private _isDisposed = false;
  private _subscriptions: IDisposable[] = [];
  private _output = new Signal<this, string>(this);
  private _exited = new Signal<this, number | null>(this);
  private _reattaching = new Signal<this, void>(this);
  private _openedSignal = new Signal<this, string>(this);
}
