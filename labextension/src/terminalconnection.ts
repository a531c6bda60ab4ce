/**
 * A container PTY as a JupyterLab terminal session: the `ITerminalConnection`
 * that JupyterLab's own terminal widget (@jupyterlab/terminal) talks to,
 * spoken over our PTY protocol on the `/container` socket (PtySession).
 *
 * JupyterLab's terminal messages map onto ours: `stdin` is `pty-input`,
 * `set_size` (rows, cols, ...) is `pty-resize`, `pty-output` arrives as
 * `stdout` and `pty-exit` as `disconnect`. A re-attach (a reconnect, or a
 * page reload with the remembered terminal id) replays the terminal's recent
 * output, so the view is reset first (`ESC c`).
 */
import type { ServerConnection, Terminal } from '@jupyterlab/services';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { PtySession } from './pty';
import { ConnectionStatus as SocketStatus } from './socket';

/** What xterm takes as a full reset (RIS): screen and scrollback cleared. */
export const FULL_RESET = '\x1bc';

export interface IPtyTerminalConnectionOptions {
  session: PtySession;
  /** The name JupyterLab's terminal shows in its title: the container's. */
  name: string;
  serverSettings: ServerConnection.ISettings;
  /** JupyterLab's translator (the user's language); English without it. */
  translator?: ITranslator;
}

export class PtyTerminalConnection implements Terminal.ITerminalConnection {
  constructor(options: IPtyTerminalConnectionOptions) {
    this.session = options.session;
    this.name = options.name;
    this.serverSettings = options.serverSettings;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyter_container_manager'
    );
    const { session } = this;
    session.output.connect((_, data) =>
      this._messageReceived.emit({ type: 'stdout', content: [data] })
    );
    session.reattaching.connect(() => {
      this._setStatus('connecting');
      this._messageReceived.emit({ type: 'stdout', content: [FULL_RESET] });
    });
    session.opened.connect(() => this._setStatus('connected'));
    session.exited.connect((_, code) => {
      this.notice(
        '\r\n' +
          this._trans.__('[process exited with code %1]', String(code ?? '?'))
      );
      this._messageReceived.emit({ type: 'disconnect' });
      this._setStatus('disconnected');
      // As JupyterLab's own terminal session: the widget closes with it when
      // the user's `closeOnExit` setting says so.
      this.dispose();
    });
    session.socket.statusChanged.connect(this._onSocketStatus, this);
  }

  readonly session: PtySession;
  readonly name: string;
  readonly serverSettings: ServerConnection.ISettings;

  get model(): Terminal.IModel {
    return { name: this.session.terminalId ?? '' };
  }

  get messageReceived(): ISignal<this, Terminal.IMessage> {
    return this._messageReceived;
  }

  get connectionStatus(): Terminal.ConnectionStatus {
    return this._status;
  }

  get connectionStatusChanged(): ISignal<this, Terminal.ConnectionStatus> {
    return this._statusChanged;
  }

  get disposed(): ISignal<this, void> {
    return this._disposed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Open the PTY: a new shell, or the remembered one re-attached. */
  async open(): Promise<string> {
    this._setStatus('connecting');
    try {
      return await this.session.open();
    } catch (error) {
      this._setStatus('disconnected');
      throw error;
    }
  }

  send(message: Terminal.IMessage): void {
    const content = message.content ?? [];
    switch (message.type) {
      case 'stdin':
        this.session.write(String(content[0] ?? ''));
        break;
      case 'set_size': {
        const rows = Number(content[0]);
        const cols = Number(content[1]);
        if (Number.isFinite(rows) && Number.isFinite(cols)) {
          this.session.resize(Math.floor(cols), Math.floor(rows));
        }
        break;
      }
      default:
        break;
    }
  }

  /** Show a line of the extension's own in the terminal (not the shell's). */
  notice(text: string): void {
    this._messageReceived.emit({ type: 'stdout', content: [text] });
  }

  /** Attach again (the server replays the recent output). */
  async reconnect(): Promise<void> {
    await this.session.reattach();
  }

  /** End the shell (closing the tab; a page reload keeps it). */
  async shutdown(): Promise<void> {
    this.session.close(true);
    this._setStatus('disconnected');
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.session.socket.statusChanged.disconnect(this._onSocketStatus, this);
    this.session.dispose();
    this._disposed.emit();
    Signal.clearData(this);
  }

  private _onSocketStatus(_: unknown, status: SocketStatus): void {
    if (
      status === 'closed' &&
      this.session.terminalId &&
      !this.session.hasExited
    ) {
      // Cleared when the terminal is attached again and its output replayed.
      this.notice(
        '\r\n\x1b[2m' +
          this._trans.__('[connection lost: reconnecting…]') +
          '\x1b[0m'
      );
      this._setStatus('connecting');
    }
  }

  private _setStatus(status: Terminal.ConnectionStatus): void {
    if (this._status === status || this._isDisposed) {
      return;
    }
    this._status = status;
    this._statusChanged.emit(status);
  }

  private _trans: TranslationBundle;
  private _status: Terminal.ConnectionStatus = 'connecting';
  private _isDisposed = false;
  private _messageReceived = new Signal<this, Terminal.IMessage>(this);
  private _statusChanged = new Signal<this, Terminal.ConnectionStatus>(this);
  private _disposed = new Signal<this, void>(this);
}
