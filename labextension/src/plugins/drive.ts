/**
 * The files plugin: container files as a JupyterLab contents drive (opened in
 * JupyterLab's editor), and the file commands of the explorer with their
 * context menus.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { registerFileCommands } from '../commands';
import { ContainerDrive } from '../drive';
import { CommandIDs } from '../panel/commandids';
import { IContainerManager } from '../tokens';
import { CATEGORY } from './palette';

export const DRIVE_PLUGIN_ID = 'jupyter-container-manager:drive';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  docManager: IDocumentManager,
  palette: ICommandPalette | null,
  translator: ITranslator | null
): void {
  const drive = new ContainerDrive(
    manager.client,
    manager.sockets,
    () => manager.model.containers,
    translator ?? nullTranslator
  );
  app.serviceManager.contents.addDrive(drive);
  registerFileCommands({
    app,
    manager,
    docManager,
    drive,
    translator: translator ?? nullTranslator
  });

  // Context menus of the file tree.
  const treeRow = '.jp-ContainerManager-treeRow';
  const treeBox = '.jp-ContainerManager-treeBox';
  const menu = app.contextMenu;
  menu.addItem({
    command: CommandIDs.openFile,
    selector: `${treeRow}[data-type="file"]`,
    rank: 1
  });
  menu.addItem({ command: CommandIDs.rename, selector: treeRow, rank: 2 });
  menu.addItem({ command: CommandIDs.deletePath, selector: treeRow, rank: 3 });
  menu.addItem({ command: CommandIDs.download, selector: treeRow, rank: 4 });
  menu.addItem({ command: CommandIDs.newFile, selector: treeBox, rank: 10 });
  menu.addItem({ command: CommandIDs.newFolder, selector: treeBox, rank: 11 });
  menu.addItem({ command: CommandIDs.upload, selector: treeBox, rank: 12 });
  menu.addItem({
    command: CommandIDs.refreshFiles,
    selector: treeBox,
    rank: 13
  });

  if (palette) {
    for (const command of [
      CommandIDs.newFile,
      CommandIDs.newFolder,
      CommandIDs.upload,
      CommandIDs.refreshFiles,
      CommandIDs.collapseAll
    ]) {
      palette.addItem({ command, category: CATEGORY });
    }
  }
}

export const drivePlugin: JupyterFrontEndPlugin<void> = {
  id: DRIVE_PLUGIN_ID,
  description:
    'Container files in JupyterLab (a contents drive) and the file commands of the explorer.',
  autoStart: true,
  requires: [IContainerManager, IDocumentManager],
  optional: [ICommandPalette, ITranslator],
  activate
};
