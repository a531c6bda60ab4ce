/**
 * The token other JupyterLab extensions require to work with the containers of
 * jupyter-container-manager:
 *
 *     import { IContainerManager } from 'jupyter-container-manager';
 *     const plugin = { requires: [IContainerManager], activate: (app, manager) => ... };
 */
import { WidgetTracker } from '@jupyterlab/apputils';
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import { ContainerClient } from './client';
import { ContainerManagerModel } from './model';
import { ExplorerController } from './panel/explorer';
import { PreviewWidget } from './preview';
import { SocketPool } from './sockets';
import { ContainerTerminal } from './terminal';
import { PreviewTarget } from './types';

/** The user's settings of the extension (schema/plugin.json). */
export interface IContainerManagerSettings {
  /** Image proposed in the New Container dialog; '' for the server's image setting. */
  readonly defaultImage: string;
  /** Where a preview link opens: a JupyterLab tab or a new browser tab. */
  readonly openPreviewsIn: PreviewTarget;
  /** Seconds between two readings of the container list (0: never). */
  readonly pollInterval: number;
}

/**
 * The containers of the current user, shared by the extension's plugins and
 * open to other extensions.
 */
export interface IContainerManager {
  /**
   * The server API client: containers (list, create, start, stop, delete),
   * files through the browser WebContainer client, processes, preview URLs.
   * Errors reject with an `ApiError` carrying the server's message and code.
   */
  readonly client: ContainerClient;

  /**
   * The model of containers: the list, the selected one and its ports.
   * Its signals: `changed` (list, selection or a status changed),
   * `refreshFailed` (a background reading of the list failed) and
   * `serverReady` (a server in a container started listening on a port).
   */
  readonly model: ContainerManagerModel;

  /**
   * One `/container` WebSocket per container (terminals, process output,
   * status and file change pushes), shared by every user of it.
   * `socketCreated` signals each new socket.
   */
  readonly sockets: SocketPool;

  /**
   * The file tree of the selected container while it runs, as the side
   * panel shows it; `changed` and `failed` signal its updates and errors.
   */
  readonly explorer: ExplorerController;

  /** The open terminal tabs (restored with the layout). */
  readonly terminals: WidgetTracker<ContainerTerminal>;

  /** The open preview tabs (restored with the layout). */
  readonly previews: WidgetTracker<PreviewWidget>;

  /** The current settings; defaults until the settings are loaded. */
  readonly settings: IContainerManagerSettings;

  /** Emitted with the new settings whenever they change. */
  readonly settingsChanged: ISignal<
    IContainerManager,
    IContainerManagerSettings
  >;

  /**
   * Replace some settings (what the settings plugin calls when the user's
   * settings load or change) and emit `settingsChanged`.
   */
  updateSettings(settings: Partial<IContainerManagerSettings>): void;
}

/** The token of the container manager service. */
export const IContainerManager = new Token<IContainerManager>(
  'jupyter-container-manager:IContainerManager',
  'The containers of the current user: the API client, the model of containers and its signals, sockets, the file explorer, terminal and preview tabs, settings.'
);
