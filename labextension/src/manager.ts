/**
 * The container manager service behind the IContainerManager token: one
 * socket pool, API client, model of containers and file explorer for the page.
 */
import { WidgetTracker } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { ContainerClient } from './client';
import { ContainerManagerModel } from './model';
import { ExplorerController } from './panel/explorer';
import { PreviewWidget } from './preview';
import { IWebSocketLike, SUBPROTOCOLS, containerSocketUrl } from './socket';
import { SocketPool } from './sockets';
import { ContainerTerminal } from './terminal';
import { IContainerManager, IContainerManagerSettings } from './tokens';

/** The settings until the user's are loaded (the schema's defaults). */
export const DEFAULT_SETTINGS: IContainerManagerSettings = {
  defaultImage: '',
  openPreviewsIn: 'tab',
  pollInterval: 5
};

export class ContainerManager implements IContainerManager {
  constructor(serverSettings: ServerConnection.ISettings) {
    this.sockets = new SocketPool({
      url: () => containerSocketUrl(serverSettings),
      protocols: [...SUBPROTOCOLS],
      factory: (url, protocols) =>
        new serverSettings.WebSocket(
          url,
          protocols
        ) as unknown as IWebSocketLike
    });
    // File work goes through the browser WebContainer client, on the pool's sockets.
    this.client = new ContainerClient(serverSettings, id =>
      this.sockets.get(id)
    );
    this.model = new ContainerManagerModel(this.client, this.sockets);
    this.explorer = new ExplorerController(this.client, this.sockets);
  }

  readonly client: ContainerClient;
  readonly model: ContainerManagerModel;
  readonly sockets: SocketPool;
  readonly explorer: ExplorerController;
  readonly terminals = new WidgetTracker<ContainerTerminal>({
    namespace: 'container-manager-terminal'
  });
  readonly previews = new WidgetTracker<PreviewWidget>({
    namespace: 'container-manager-preview'
  });

  get settings(): IContainerManagerSettings {
    return this._settings;
  }

  get settingsChanged(): ISignal<this, IContainerManagerSettings> {
    return this._settingsChanged;
  }

  updateSettings(settings: Partial<IContainerManagerSettings>): void {
    this._settings = { ...this._settings, ...settings };
    this._settingsChanged.emit(this._settings);
  }

  private _settings = DEFAULT_SETTINGS;
  private _settingsChanged = new Signal<this, IContainerManagerSettings>(this);
}
