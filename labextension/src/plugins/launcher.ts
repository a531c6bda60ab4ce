/**
 * The launcher plugin: a "Containers" section of JupyterLab's launcher with a
 * "New container" tile per starter template (each opens the New Container
 * dialog with that template chosen).
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ILauncher } from '@jupyterlab/launcher';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../panel/commandids';
import { STARTER_TEMPLATES } from '../templates';
import { IContainerManager } from '../tokens';

export const LAUNCHER_PLUGIN_ID = 'jupyter-container-manager:launcher';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  launcher: ILauncher | null,
  translator: ITranslator | null
): void {
  if (!launcher) {
    return;
  }
  const trans = (translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  STARTER_TEMPLATES.forEach((template, rank) =>
    launcher.add({
      command: CommandIDs.create,
      category: trans.__('Containers'),
      rank,
      args: { template: template.id, isLauncher: true }
    })
  );
}

export const launcherPlugin: JupyterFrontEndPlugin<void> = {
  id: LAUNCHER_PLUGIN_ID,
  description:
    'A Containers section of the launcher: a new container from each starter template.',
  autoStart: true,
  requires: [IContainerManager],
  optional: [ILauncher, ITranslator],
  activate
};
