/**
 * A terminal tab on a PTY in a container: JupyterLab's own terminal widget
 * (@jupyterlab/terminal, so the user's terminal settings apply: theme, font,
 * screen-reader mode, scrollback, copy and paste) over a PtyTerminalConnection.
 * The terminal id is kept by the layout restorer, so a reloaded page attaches
 * to the same shell and gets its scrollback replayed.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { ServerConnection } from '@jupyterlab/services';
import { ITerminal, Terminal } from '@jupyterlab/terminal';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { UUID } from '@lumino/coreutils';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';

import { errorText } from './api';
import { PtySession } from './pty';
import { ContainerSocket } from './socket';
import { PtyTerminalConnection } from './terminalconnection';

/** The options of JupyterLab's terminal that its settings hold. */
export type TerminalOptions = Partial<ITerminal.IOptions>;

export interface IContainerTerminalOptions {
  socket: ContainerSocket;
  containerName: string;
  serverSettings: ServerConnection.ISettings;
  /** Re-attach to this terminal when it still runs. */
  terminalId?: string | null;
  /** A stable name for the layout restorer (kept across reloads). */
  key?: string;
  /** The user's terminal settings (@jupyterlab/terminal-extension). */
  terminalOptions?: TerminalOptions;
  translator?: ITranslator;
}

export class ContainerTerminal extends MainAreaWidget<Terminal> {
  constructor(options: IContainerTerminalOptions) {
    const session = new PtySession(options.socket, {
      cols: 80,
      rows: 24,
      terminalId: options.terminalId ?? null
    });
    const connection = new PtyTerminalConnection({
      session,
      name: options.containerName,
      serverSettings: options.serverSettings,
      translator: options.translator
    });
    const content = new Terminal(
      connection,
      {
        ...options.terminalOptions,
        // Closing the tab ends the shell; a page reload (no close) keeps it.
        shutdownOnClose: true,
        initialCommand: ''
      },
      options.translator
    );
    super({ content, reveal: content.ready });
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyter_container_manager'
    );
    this.addClass('jp-ContainerManager-terminal');
    this.title.closable = true;
    this.socket = options.socket;
    this.connection = connection;
    this.containerName = options.containerName;
    this.key = options.key ?? UUID.uuid4();
    this.node.dataset.containerId = options.socket.containerId;
    // The tab names the container before whatever title the shell sets.
    const prefix = `${options.containerName}: `;
    const named = () => {
      const label = this.content.title.label;
      if (!label.startsWith(prefix)) {
        this.title.label = prefix + label;
      }
    };
    content.title.changed.connect(named);
    named();
    session.opened.connect((_, id) => {
      this.node.dataset.terminalId = id;
      this._terminalIdChanged.emit(id);
    });
    session.exited.connect(() => this.node.setAttribute('data-exited', ''));
    this._ready = this._start();
  }

  readonly socket: ContainerSocket;
  readonly connection: PtyTerminalConnection;
  readonly containerName: string;
  readonly key: string;

  get session(): PtySession {
    return this.connection.session;
  }

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

  /** Apply the user's terminal settings (a changed setting or theme). */
  setOptions(options: TerminalOptions): void {
    for (const [key, value] of Object.entries(options)) {
      if (key === 'shutdownOnClose' || key === 'initialCommand') {
        continue;
      }
      this.content.setOption(key as keyof ITerminal.IOptions, value as never);
    }
  }

  /** Follow a theme change (the `inherit` theme reads JupyterLab's colours). */
  updateTheme(): void {
    this.content.setOption('theme', this.content.getOption('theme'));
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    super.dispose();
    this.connection.dispose();
  }

  protected onCloseRequest(msg: Message): void {
    // Closing the tab ends the shell (also when the terminal widget's
    // shutdownOnClose is not consulted, e.g. it is not ready yet).
    void this.connection.shutdown();
    super.onCloseRequest(msg);
  }

  private async _start(): Promise<void> {
    await this.content.ready;
    try {
      await this.connection.open();
    } catch (error) {
      const trans = this._trans;
      this.connection.notice(
        '\r\n\x1b[31m' +
          trans.__('Could not open a terminal: %1', errorText(trans, error)) +
          '\x1b[0m\r\n'
      );
      throw error;
    }
  }

  private _trans: TranslationBundle;
  private _ready: Promise<void>;
  private _terminalIdChanged = new Signal<this, string>(this);
}
