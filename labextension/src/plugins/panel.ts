/**
 * The side panel plugin: the left panel with the containers, the selected
 * container's files and its previews.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { CommandToolbarButton } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';

import { containerIcon } from '../icons';
import { CommandIDs } from '../panel/commandids';
import { createContainersSection } from '../panel/containers';
import { createFilesSection } from '../panel/files';
import { createHistorySection } from '../panel/history';
import { createMetricsSection } from '../panel/metrics';
import { MetricsFeed } from '../metrics';
import { createPreviewsSection } from '../panel/previews';
import { IContainerManager } from '../tokens';

export const PANEL_PLUGIN_ID = 'jupyter-container-manager:panel';

/** The side panel's widget id (what `show-panel` activates). */
export const PANEL_ID = 'jp-ContainerManager-panel';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  restorer: ILayoutRestorer | null,
  translator: ITranslator | null
): void {
  translator = translator ?? nullTranslator;
  const trans = translator.load('jupyter_container_manager');
  const { client, model, explorer, sockets } = manager;
  const panel = new SidePanel({ translator });
  panel.id = PANEL_ID;
  panel.title.icon = containerIcon;
  panel.title.caption = trans.__('Containers');
  panel.node.setAttribute('role', 'region');
  panel.node.setAttribute('aria-label', trans.__('Containers'));
  panel.addClass('jp-ContainerManager');

  const button = (id: string) => ({
    name: id.split(':')[1],
    widget: new CommandToolbarButton({ commands: app.commands, id, label: '' })
  });
  panel.addWidget(
    createContainersSection(
      model,
      app.commands,
      [button(CommandIDs.create), button(CommandIDs.refresh)],
      translator
    )
  );
  panel.addWidget(
    createFilesSection(
      explorer,
      app.commands,
      [
        button(CommandIDs.newFile),
        button(CommandIDs.newFolder),
        button(CommandIDs.upload),
        button(CommandIDs.refreshFiles),
        button(CommandIDs.collapseAll)
      ],
      translator
    )
  );
  panel.addWidget(
    createPreviewsSection(
      model,
      app.commands,
      url => client.absoluteUrl(url),
      translator
    )
  );
  panel.addWidget(
    createHistorySection(model, client, app.commands, translator)
  );
  panel.addWidget(
    createMetricsSection(model, new MetricsFeed(sockets), translator)
  );
  app.shell.add(panel, 'left', { rank: 250 });
  // The toolbar buttons show commands that the extension's other plugins
  // register, maybe after this one: a toolbar button draws again when a
  // command changes, not when it is added, so say so once all plugins are on.
  void app.started.then(() => app.commands.notifyCommandChanged());

  restorer?.add(panel, PANEL_ID);
}

export const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: PANEL_PLUGIN_ID,
  description:
    'The left side panel: containers, the files of the selected container, previews.',
  autoStart: true,
  requires: [IContainerManager],
  optional: [ILayoutRestorer, ITranslator],
  activate
};
