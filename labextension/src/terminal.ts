/**
 * A terminal tab: xterm.js on a PTY in a container. The size follows the tab;
 * the terminal id is kept by the layout restorer, so a reloaded page attaches
 * to the same shell and gets its scrollback replayed.
 */
import { UUID } from '@lumino/coreutils';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { FitAddon } from '@xterm/addon-fit';
import { ITheme, Terminal } from '@xterm/xterm';

import { errorMessage } from './api';
import { PtySession } from './pty';
import { ConnectionStatus, ContainerSocket } from './socket';

/** The xterm colours from the current JupyterLab theme's CSS variables. */
export function themeFromCss(node: HTMLElement = document.body): ITheme {
  const style = getComputedStyle(node);
  const read = (name: string, fallback: string) =>
    style.getPropertyValue(name).trim() || fallback;
  const light = document.body.dataset.jpThemeLight !== 'false';
  return {
    background: read('--jp-layout-color0', light ? '#ffffff' : '#111111'),
    foreground: read('--jp-ui-font-color0', light ? '#000000' : '#ffffff'),
    cursor: read('--jp-ui-font-color1', light ? '#616161' : '#f8f8f0'),
    cursorAccent: read('--jp-layout-color0', light ? '#ffffff' : '#111111'),
    selectionBackground: light
      ? 'rgba(97, 97, 97, 0.3)'
      : 'rgba(255, 255, 255, 0.3)'
  };
}

export interface IContainerTerminalOptions {
  socket: ContainerSocket;
  containerName: string;
  /** Re-attach to this terminal when it still runs. */
  terminalId?: string | null;
  /** A stable name for the layout restorer (kept across reloads). */
  key?: string;
  fontSize?: number;
}

export class ContainerTerminal extends Widget {
  constructor(options: IContainerTerminalOptions) {
    super();
    this.addClass('jp-ContainerManager-terminal');
    this.title.label = `Terminal: ${options.containerName}`;
    this.title.closable = true;
    this.socket = options.socket;
    this.key = options.key ?? UUID.uuid4();
    this._term = new Terminal({
      fontFamily:
        getComputedStyle(document.body)
          .getPropertyValue('--jp-code-font-family')
          .trim() || 'monospace',
      fontSize: options.fontSize ?? 13,
      cursorBlink: true,
      scrollback: 5000,
      theme: themeFromCss()
    });
    this._fit = new FitAddon();
    this._term.loadAddon(this._fit);
    this.session = new PtySession(options.socket, {
      cols: 80,
      rows: 24,
      terminalId: options.terminalId ?? null
    });
    this.session.output.connect((_, data) => this._term.write(data));
    this.session.reattaching.connect(() => this._term.reset());
    this.session.opened.connect((_, id) => {
      this.node.dataset.terminalId = id;
      this._terminalIdChanged.emit(id);
    });
    this.session.exited.connect((_, code) => {
      this._term.write(`\r\n[process exited with code ${code ?? '?'}]\r\n`);
      this.title.label = `Terminal: ${options.containerName} (exited)`;
    });
    options.socket.statusChanged.connect(this._onConnection, this);
    this._term.onData(data => this.session.write(data));
    this._term.onResize(({ cols, rows }) => this.session.resize(cols, rows));
  }

  readonly socket: ContainerSocket;
  readonly session: PtySession;
  readonly key: string;

  get containerId(): string {
    return this.socket.containerId;
  }

  get terminalId(): string | null {
    return this.session.terminalId;
  }

  /** Emitted with the terminal id once it is known. */
  get terminalIdChanged(): ISignal<this, string> {
    return this._terminalIdChanged;
  }

  /** Resolves once the PTY is open (the same shell if it still runs). */
  get ready(): Promise<void> {
    return this._ready;
  }

  /** Follow a theme change. */
  updateTheme(): void {
    this._term.options.theme = themeFromCss();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.socket.statusChanged.disconnect(this._onConnection, this);
    this.session.dispose();
    this._term.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._opened) {
      this._opened = true;
      this._term.open(this.node);
      this._fitNow();
      this._ready = this._start();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fitNow();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._fitNow();
  }

  /** Closing the tab ends the shell; a page reload (no close) keeps it for re-attach. */
  protected onCloseRequest(msg: Message): void {
    this.session.close(true);
    super.onCloseRequest(msg);
  }

  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this._term.focus();
  }

  private _onConnection(_: ContainerSocket, status: ConnectionStatus): void {
    if (
      status === 'closed' &&
      this.session.terminalId &&
      !this.session.hasExited
    ) {
      // Cleared when the terminal is attached again and its output replayed.
      this._term.write('\r\n\x1b[2m[connection lost: reconnecting…]\x1b[0m');
    }
  }

  private async _start(): Promise<void> {
    try {
      await this.session.open();
      // The size may have changed while the terminal was opening.
      this.session.resize(this._term.cols, this._term.rows);
    } catch (error) {
      this._term.write(
        `\r\n\x1b[31mCould not open a terminal: ${errorMessage(error)}\x1b[0m\r\n`
      );
      throw error;
    }
  }

  private _fitNow(): void {
    if (!this.isVisible || this.node.clientWidth === 0) {
      return;
    }
    try {
      this._fit.fit();
    } catch {
      // xterm not rendered yet
    }
  }

  private _term: Terminal;
  private _fit: FitAddon;
  private _opened = false;
  private _ready: Promise<void> = Promise.resolve();
  private _terminalIdChanged = new Signal<this, string>(this);
}
