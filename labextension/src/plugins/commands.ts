/**
 * The container commands plugin: list, create, start, stop, restart and
 * delete containers, and terminal tabs (restored with the layout, following
 * the theme).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IThemeManager } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';

import { registerContainerCommands } from '../commands';
import { CommandIDs } from '../panel/commandids';
import { IContainerManager } from '../tokens';
import { CATEGORY } from './palette';
import { PANEL_ID } from './panel';

export const COMMANDS_PLUGIN_ID = 'jupyter-container-manager:commands';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  docManager: IDocumentManager,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  themeManager: IThemeManager | null
): void {
  const { terminals } = manager;
  registerContainerCommands({
    app,
    manager,
    docManager,
    showPanel: () => app.shell.activateById(PANEL_ID)
  });

  themeManager?.themeChanged.connect(() => {
    // Let the new theme's CSS variables apply before reading them.
    requestAnimationFrame(() => terminals.forEach(t => t.updateTheme()));
  });

  if (palette) {
    for (const command of [
      CommandIDs.showPanel,
      CommandIDs.create,
      CommandIDs.refresh,
      CommandIDs.start,
      CommandIDs.stop,
      CommandIDs.restart,
      CommandIDs.deleteContainer,
      CommandIDs.openTerminal
    ]) {
      palette.addItem({ command, category: CATEGORY });
    }
  }

  if (restorer) {
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
  }
}

export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: COMMANDS_PLUGIN_ID,
  description:
    'Commands on containers (create, start, stop, restart, delete) and their terminal tabs.',
  autoStart: true,
  requires: [IContainerManager, IDocumentManager],
  optional: [ICommandPalette, ILayoutRestorer, IThemeManager],
  activate
};
