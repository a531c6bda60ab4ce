/**
 * The previews plugin: open a container port in a JupyterLab tab (restored
 * with the layout) or a browser tab, and offer it when a server starts
 * listening in a container.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { registerPreviewCommands } from '../commands';
import { CommandIDs } from '../panel/commandids';
import { IContainerManager } from '../tokens';
import { CATEGORY } from './palette';

export const PREVIEWS_PLUGIN_ID = 'jupyter-container-manager:previews';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  translator: ITranslator | null
): void {
  const { model, previews } = manager;
  translator = translator ?? nullTranslator;
  const trans = translator.load('jupyter_container_manager');
  registerPreviewCommands({ app, manager, translator });

  model.serverReady.connect((_, { containerId, port }) => {
    const name = model.find(containerId)?.name ?? containerId.slice(0, 8);
    Notification.info(
      trans.__('%1: a server is listening on port %2', name, port.port),
      {
        autoClose: 5000,
        actions: [
          {
            label: trans.__('Open preview'),
            callback: () =>
              void app.commands.execute(CommandIDs.openPreview, {
                containerId,
                port: port.port,
                url: port.url
              })
          }
        ]
      }
    );
  });

  palette?.addItem({ command: CommandIDs.openPreview, category: CATEGORY });

  if (restorer) {
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
}

export const previewsPlugin: JupyterFrontEndPlugin<void> = {
  id: PREVIEWS_PLUGIN_ID,
  description:
    'Previews of container ports in JupyterLab tabs or browser tabs.',
  autoStart: true,
  requires: [IContainerManager],
  optional: [ICommandPalette, ILayoutRestorer, ITranslator],
  activate
};
