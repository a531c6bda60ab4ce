/**
 * File commands of the explorer: open, new file/folder, rename, delete,
 * download, upload.
 */
import { nullTranslator } from '@jupyterlab/translation';
import {
  Dialog,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import {
  addIcon,
  collapseAllIcon,
  deleteIcon,
  downloadIcon,
  editIcon,
  fileUploadIcon,
  newFolderIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ContainerDrive, toDrivePath, toLocalPath } from '../drive';
import { CommandIDs } from '../panel/commandids';
import { takeDroppedFiles } from '../panel/files';
import { basename, dirname, isValidName, join } from '../webcontainer/paths';
import { IDroppedFile } from '../upload';
import { DIRECTORY_ARG, PATH_ARG, describeArgs } from './args';
import { ICommandContext, nameOf as nameIn, notifyError } from './context';

/** Save a blob as a download with a file name. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  anchor.style.display = 'none';
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** Ask the browser for files with a file input. */
function pickFiles(): Promise<File[]> {
  return new Promise(resolve => {
    document
      .querySelectorAll('input.jp-ContainerManager-fileInput')
      .forEach(old => old.remove());
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.className = 'jp-ContainerManager-fileInput';
    input.style.display = 'none';
    input.addEventListener('change', () => {
      const files = Array.from(input.files ?? []);
      input.remove();
      resolve(files);
    });
    document.body.appendChild(input);
    input.click();
  });
}

/** What the file commands need beyond the shared context. */
export interface IFileCommandContext extends ICommandContext {
  /** Opens container files in editor tabs. */
  docManager: IDocumentManager;
  /** The contents drive of container files (rename and delete go through it). */
  drive: ContainerDrive;
}

export function registerFileCommands(ctx: IFileCommandContext): void {
  const { app, docManager, drive } = ctx;
  const trans = (ctx.translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const { client, explorer } = ctx.manager;
  const { commands } = app;
  const nameOf = (id: string) => nameIn(ctx, id);
  const explorerContainer = (): string | null => explorer.target?.id ?? null;
  const hasExplorer = () => explorer.target !== null;

  commands.addCommand(CommandIDs.openFile, {
    label: trans.__('Open File'),
    caption: trans.__('Open the file in an editor tab'),
    describedBy: describeArgs({
      containerId: {
        type: 'string',
        description: "The container (default: the explorer's)"
      },
      path: PATH_ARG,
      factory: {
        type: 'string',
        description: 'The document widget factory (default: the default one)'
      }
    }),
    execute: args => {
      const containerId = (args.containerId as string) ?? explorerContainer();
      const path = (args.path as string) ?? explorer.selectedPath;
      if (!containerId || !path) {
        return;
      }
      const widget = docManager.openOrReveal(
        toDrivePath(containerId, path),
        (args.factory as string) ?? undefined
      );
      if (!widget) {
        notifyError(trans.__('Could not open'), basename(path), trans);
      }
      return widget;
    }
  });

  const askName = async (title: string, value = '') => {
    const result = await InputDialog.getText({
      title,
      label: trans.__('Name'),
      text: value,
      placeholder: value || trans.__('name')
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    const name = result.value.trim();
    if (!isValidName(name)) {
      Notification.error(trans.__('"%1" is not a valid name', name), {
        autoClose: 5000
      });
      return null;
    }
    return name;
  };

  const create =
    (kind: 'file' | 'folder') => async (args: ReadonlyPartialJSONObject) => {
      const containerId = explorerContainer();
      if (!containerId) {
        return;
      }
      const name = await askName(
        kind === 'file' ? trans.__('New File') : trans.__('New Folder')
      );
      if (!name) {
        return;
      }
      const directory = (args.directory as string) ?? explorer.currentDirectory;
      const path = join(directory, name);
      if (explorer.tree?.has(path)) {
        Notification.error(trans.__('EEXIST: "%1" already exists', path), {
          autoClose: 5000
        });
        return;
      }
      try {
        if (kind === 'file') {
          await client.writeText(containerId, path, '');
        } else {
          await client.mkdir(containerId, path);
        }
        await explorer.list(directory);
        explorer.tree?.expand(directory);
        explorer.select(path);
        return path;
      } catch (error) {
        notifyError(
          trans.__('Could not create %1', basename(path)),
          error,
          trans
        );
      }
    };

  commands.addCommand(CommandIDs.newFile, {
    label: trans.__('New File in Container…'),
    caption: trans.__('New file'),
    icon: addIcon,
    describedBy: describeArgs({ directory: DIRECTORY_ARG }),
    isEnabled: hasExplorer,
    execute: create('file')
  });

  commands.addCommand(CommandIDs.newFolder, {
    label: trans.__('New Folder in Container…'),
    caption: trans.__('New folder'),
    icon: newFolderIcon,
    describedBy: describeArgs({ directory: DIRECTORY_ARG }),
    isEnabled: hasExplorer,
    execute: create('folder')
  });

  commands.addCommand(CommandIDs.rename, {
    label: trans.__('Rename…'),
    caption: trans.__('Rename the selected file or folder'),
    icon: editIcon,
    describedBy: describeArgs({ path: PATH_ARG }),
    isEnabled: () => hasExplorer() && explorer.selectedPath !== null,
    execute: async args => {
      const containerId = explorerContainer();
      const path = (args.path as string) ?? explorer.selectedPath;
      if (!containerId || !path || path === '/') {
        return;
      }
      const name = await askName(trans.__('Rename'), basename(path));
      if (!name || name === basename(path)) {
        return;
      }
      const target = join(dirname(path), name);
      try {
        await drive.rename(
          toLocalPath(containerId, path),
          toLocalPath(containerId, target)
        );
        await explorer.list(dirname(path));
        explorer.select(target);
      } catch (error) {
        notifyError(
          trans.__('Could not rename %1', basename(path)),
          error,
          trans
        );
      }
    }
  });

  commands.addCommand(CommandIDs.deletePath, {
    label: trans.__('Delete…'),
    caption: trans.__('Delete the selected file or folder'),
    icon: deleteIcon,
    describedBy: describeArgs({ path: PATH_ARG }),
    isEnabled: () => hasExplorer() && explorer.selectedPath !== null,
    execute: async args => {
      const containerId = explorerContainer();
      const path = (args.path as string) ?? explorer.selectedPath;
      if (!containerId || !path || path === '/') {
        return;
      }
      const isDir = explorer.tree?.get(path)?.type === 'directory';
      const result = await showDialog({
        title: isDir ? trans.__('Delete Folder') : trans.__('Delete File'),
        body: isDir
          ? trans.__('Delete the folder "%1" and everything in it?', path)
          : trans.__('Delete "%1"?', path),
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        await drive.delete(toLocalPath(containerId, path));
        await explorer.list(dirname(path));
      } catch (error) {
        notifyError(
          trans.__('Could not delete %1', basename(path)),
          error,
          trans
        );
      }
    }
  });

  commands.addCommand(CommandIDs.download, {
    label: trans.__('Download'),
    caption: trans.__('Download the selected file (a folder as a zip)'),
    icon: downloadIcon,
    describedBy: describeArgs({ path: PATH_ARG }),
    isEnabled: () => hasExplorer() && explorer.selectedPath !== null,
    execute: async args => {
      const containerId = explorerContainer();
      const path = (args.path as string) ?? explorer.selectedPath;
      if (!containerId || !path) {
        return;
      }
      try {
        if (explorer.tree?.get(path)?.type === 'directory') {
          const blob = await client.exportZip(containerId, path);
          saveBlob(blob, `${basename(path) || nameOf(containerId)}.zip`);
        } else {
          saveBlob(await client.readBlob(containerId, path), basename(path));
        }
      } catch (error) {
        notifyError(
          trans.__('Could not download %1', basename(path)),
          error,
          trans
        );
      }
    }
  });

  commands.addCommand(CommandIDs.upload, {
    label: trans.__('Upload Files to Container…'),
    caption: trans.__('Upload files'),
    icon: fileUploadIcon,
    describedBy: describeArgs({
      directory: DIRECTORY_ARG,
      dropId: {
        type: 'number',
        description:
          'Files dropped on the tree (default: ask with a file picker)'
      }
    }),
    isEnabled: hasExplorer,
    execute: async args => {
      if (!explorerContainer()) {
        return;
      }
      const directory = (args.directory as string) ?? explorer.currentDirectory;
      let files: IDroppedFile[] | undefined;
      if (typeof args.dropId === 'number') {
        files = takeDroppedFiles<IDroppedFile[]>(args.dropId);
      } else {
        files = (await pickFiles()).map(file => ({
          file,
          relativePath: file.name
        }));
      }
      if (!files || files.length === 0) {
        return;
      }
      try {
        const items = await explorer.upload(directory, files);
        const failed = items.filter(item => item.status === 'error');
        for (const item of failed) {
          Notification.error(
            trans.__('Could not upload %1: %2', item.path, item.error),
            { autoClose: 10000 }
          );
        }
        const done = items.filter(item => item.status === 'done').length;
        if (done > 0 && failed.length === 0) {
          Notification.success(
            trans._n('Uploaded %1 file', 'Uploaded %1 files', done),
            { autoClose: 3000 }
          );
        }
      } catch (error) {
        notifyError(trans.__('Could not upload'), error, trans);
      }
    }
  });

  commands.addCommand(CommandIDs.refreshFiles, {
    label: trans.__('Refresh Container Files'),
    caption: trans.__('Read the file tree again'),
    icon: refreshIcon,
    describedBy: describeArgs({}),
    isEnabled: hasExplorer,
    execute: () => explorer.reload()
  });

  commands.addCommand(CommandIDs.collapseAll, {
    label: trans.__('Collapse All Folders'),
    caption: trans.__('Collapse all folders'),
    icon: collapseAllIcon,
    describedBy: describeArgs({}),
    isEnabled: hasExplorer,
    execute: () => explorer.tree?.collapseAll()
  });
}
