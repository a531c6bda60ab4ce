/**
 * The core plugin: the container manager service (IContainerManager), the
 * explorer following the selected container, and notifications of background
 * failures.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { notifyError } from '../commands';
import { ContainerManager } from '../manager';
import { IContainerManager } from '../tokens';

export const CORE_PLUGIN_ID = 'jupyter-container-manager:core';

function activate(
  app: JupyterFrontEnd,
  translator: ITranslator | null
): IContainerManager {
  const trans = (translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const manager = new ContainerManager(app.serviceManager.serverSettings);
  const { model, explorer, sockets } = manager;

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
      notifyError(trans.__('Could not list containers'), error, trans);
    }
  });
  model.changed.connect(() => {
    if (!model.error) {
      lastRefreshError = '';
    }
  });
  explorer.failed.connect((_, error) =>
    notifyError(trans.__('File explorer'), error, trans)
  );
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
      const name = model.find(socket.containerId)?.name;
      notifyError(
        name ? trans.__('Container %1', name) : trans.__('Container'),
        error,
        trans
      );
    });
  });

  void app.restored.then(() =>
    model.refresh().catch(error => {
      lastRefreshError = error.message;
      notifyError(trans.__('Could not list containers'), error, trans);
    })
  );
  return manager;
}

export const corePlugin: JupyterFrontEndPlugin<IContainerManager> = {
  id: CORE_PLUGIN_ID,
  description:
    'The containers of the current user: API client, model, sockets, file explorer, terminal and preview tabs.',
  autoStart: true,
  provides: IContainerManager,
  optional: [ITranslator],
  activate
};
