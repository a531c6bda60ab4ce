/**
 * jupyter-container-manager: the JupyterLab side of real Docker containers.
 *
 * A left side panel (containers, files, previews), terminal tabs on PTYs,
 * container files in JupyterLab's editor, previews in iframe tabs.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  CommandToolbarButton,
  ICommandPalette,
  IThemeManager,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon, SidePanel } from '@jupyterlab/ui-components';

import { ContainerClient } from './client';
import { ICommandSettings, notifyError, registerCommands } from './commands';
import { ContainerDrive } from './drive';
import { ContainerManagerModel } from './model';
import { CommandIDs } from './panel/commandids';
import { createContainersSection } from './panel/containers';
import { ExplorerController } from './panel/explorer';
import { createFilesSection } from './panel/files';
import { createPreviewsSection } from './panel/previews';
import { PreviewWidget } from './preview';
import { IWebSocketLike, SUBPROTOCOL, containerSocketUrl } from './socket';
import { SocketPool } from './sockets';
import { ContainerTerminal } from './terminal';
import { PreviewTarget } from './types';

const PLUGIN_ID = 'jupyter-container-manager:plugin';
const PANEL_ID = 'jp-ContainerManager-panel';
const CATEGORY = 'Container Manager';

export const containerIcon = new LabIcon({
  name: 'jupyter-container-manager:container',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M12 2 3 6.5v11L12 22l9-4.5v-11L12 2zm0 2.2 6.6 3.3L12 10.8 5.4 7.5 12 4.2z' +
    'M5 9.1l6 3v7.6l-6-3V9.1zm8 10.6v-7.6l6-3v7.6l-6 3z"/></g></svg>'
});

function activate(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  palette: ICommandPalette | null,
  settingRegistry: ISettingRegistry | null,
  restorer: ILayoutRestorer | null,
  themeManager: IThemeManager | null
): void {
  const serverSettings = app.serviceManager.serverSettings;
  const sockets = new SocketPool({
    url: () => containerSocketUrl(serverSettings),
    protocols: [SUBPROTOCOL],
    factory: (url, protocols) =>
      new serverSettings.WebSocket(url, protocols) as unknown as IWebSocketLike
  });
  // File work goes through the browser WebContainer client, on the pool's sockets.
  const client = new ContainerClient(serverSettings, id => sockets.get(id));
  const model = new ContainerManagerModel(client, sockets);
  const explorer = new ExplorerController(client, sockets);
  const drive = new ContainerDrive(client, sockets);
  app.serviceManager.contents.addDrive(drive);

  const settings: ICommandSettings = {
    defaultImage: '',
    openPreviewsIn: 'tab'
  };
  let pollSeconds = 5;

  const terminals = new WidgetTracker<ContainerTerminal>({
    namespace: 'container-manager-terminal'
  });
  const previews = new WidgetTracker<PreviewWidget>({
    namespace: 'container-manager-preview'
  });

  // The side panel: containers, the selected container's files, previews.
  const panel = new SidePanel();
  panel.id = PANEL_ID;
  panel.title.icon = containerIcon;
  panel.title.caption = 'Containers';
  panel.addClass('jp-ContainerManager');
  const showPanel = () => app.shell.activateById(PANEL_ID);

  registerCommands({
    app,
    client,
    sockets,
    model,
    explorer,
    drive,
    docManager,
    terminals,
    previews,
    settings,
    showPanel
  });

  const button = (id: string) => ({
    name: id.split(':')[1],
    widget: new CommandToolbarButton({ commands: app.commands, id, label: '' })
  });
  panel.addWidget(
    createContainersSection(model, app.commands, [
      button(CommandIDs.create),
      button(CommandIDs.refresh)
    ])
  );
  panel.addWidget(
    createFilesSection(explorer, app.commands, [
      button(CommandIDs.newFile),
      button(CommandIDs.newFolder),
      button(CommandIDs.upload),
      button(CommandIDs.refreshFiles),
      button(CommandIDs.collapseAll)
    ])
  );
  panel.addWidget(
    createPreviewsSection(model, app.commands, url => client.absoluteUrl(url))
  );
  app.shell.add(panel, 'left', { rank: 250 });

  // The explorer shows the selected container while it runs.
  const followSelection = () => {
    const selected = model.selected;
    explorer.setTarget(
      selected && selected.status === 'running'
        ? { id: selected.id, name: selected.name, workdir: selected.workdir }
        : null
    );
    app.commands.notifyCommandChanged();
  };
  model.changed.connect(followSelection);
  explorer.changed.connect(() => app.commands.notifyCommandChanged());

  // Errors: one notification per distinct background failure.
  let lastRefreshError = '';
  model.refreshFailed.connect((_, error) => {
    if (error.message !== lastRefreshError) {
      lastRefreshError = error.message;
      notifyError('Could not list containers', error);
    }
  });
  model.changed.connect(() => {
    if (!model.error) {
      lastRefreshError = '';
    }
  });
  explorer.failed.connect((_, error) => notifyError('File explorer', error));
  // Errors pushed by a socket (no request waits for them): the same message at
  // most once every 10 s, so a dead terminal does not flood the notifications.
  const lastShown = new Map<string, number>();
  sockets.socketCreated.connect((_, socket) => {
    socket.errorReceived.connect((_, error) => {
      const key = `${socket.containerId}:${error.message}`;
      const now = Date.now();
      if (now - (lastShown.get(key) ?? 0) < 10000) {
        return;
      }
      lastShown.set(key, now);
      notifyError(`Container ${model.find(socket.containerId)?.name ?? ''}`.trim(), error);
    });
  });
  model.serverReady.connect((_, { containerId, port }) => {
    const name = model.find(containerId)?.name ?? containerId.slice(0, 8);
    Notification.info(`${name}: a server is listening on port ${port.port}`, {
      autoClose: 5000,
      actions: [
        {
          label: 'Open preview',
          callback: () =>
            void app.commands.execute(CommandIDs.openPreview, {
              containerId,
              port: port.port,
              url: port.url
            })
        }
      ]
    });
  });

  themeManager?.themeChanged.connect(() => {
    // Let the new theme's CSS variables apply before reading them.
    requestAnimationFrame(() => terminals.forEach(t => t.updateTheme()));
  });

  // Context menus of the file tree.
  const treeRow = '.jp-ContainerManager-treeRow';
  const treeBox = '.jp-ContainerManager-treeBox';
  app.contextMenu.addItem({ command: CommandIDs.openFile, selector: `${treeRow}[data-type="file"]`, rank: 1 });
  app.contextMenu.addItem({ command: CommandIDs.rename, selector: treeRow, rank: 2 });
  app.contextMenu.addItem({ command: CommandIDs.deletePath, selector: treeRow, rank: 3 });
  app.contextMenu.addItem({ command: CommandIDs.download, selector: treeRow, rank: 4 });
  app.contextMenu.addItem({ command: CommandIDs.newFile, selector: treeBox, rank: 10 });
  app.contextMenu.addItem({ command: CommandIDs.newFolder, selector: treeBox, rank: 11 });
  app.contextMenu.addItem({ command: CommandIDs.upload, selector: treeBox, rank: 12 });
  app.contextMenu.addItem({ command: CommandIDs.refreshFiles, selector: treeBox, rank: 13 });

  if (palette) {
    for (const command of [
      CommandIDs.showPanel,
      CommandIDs.create,
      CommandIDs.refresh,
      CommandIDs.start,
      CommandIDs.stop,
      CommandIDs.restart,
      CommandIDs.deleteContainer,
      CommandIDs.openTerminal,
      CommandIDs.newFile,
      CommandIDs.newFolder,
      CommandIDs.upload,
      CommandIDs.refreshFiles,
      CommandIDs.collapseAll,
      CommandIDs.openPreview
    ]) {
      palette.addItem({ command, category: CATEGORY });
    }
  }

  if (restorer) {
    restorer.add(panel, PANEL_ID);
    void restorer.restore(terminals, {
      command: CommandIDs.openTerminal,
      args: widget => ({
        containerId: widget.containerId,
        terminalId: widget.terminalId,
        key: widget.key,
        name: widget.title.label.replace(/^Terminal: /, '')
      }),
      // Known before the terminal id, and the same after a reload.
      name: widget => widget.key
    });
    void restorer.restore(previews, {
      command: CommandIDs.openPreview,
      args: widget => ({
        containerId: widget.containerId,
        port: widget.port,
        url: widget.url,
        target: 'tab'
      }),
      name: widget => `${widget.containerId}:${widget.port}`
    });
  }

  const applySettings = (loaded: ISettingRegistry.ISettings) => {
    settings.defaultImage = (loaded.get('defaultImage').composite as string) ?? '';
    settings.openPreviewsIn =
      (loaded.get('openPreviewsIn').composite as PreviewTarget) ?? 'tab';
    pollSeconds = (loaded.get('pollInterval').composite as number) ?? 5;
    model.startPolling(pollSeconds);
  };
  if (settingRegistry) {
    settingRegistry
      .load(PLUGIN_ID)
      .then(loaded => {
        applySettings(loaded);
        loaded.changed.connect(applySettings);
      })
      .catch(error => {
        console.error('jupyter-container-manager: settings not loaded', error);
        model.startPolling(pollSeconds);
      });
  } else {
    model.startPolling(pollSeconds);
  }

  void app.restored.then(() =>
    model.refresh().catch(error => {
      lastRefreshError = error.message;
      notifyError('Could not list containers', error);
    })
  );
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Containers, files, terminals and previews of real Docker containers in JupyterLab.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ICommandPalette, ISettingRegistry, ILayoutRestorer, IThemeManager],
  activate
};

export default plugin;
