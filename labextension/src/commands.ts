/**
 * The extension's commands: containers, files, terminals and previews.
 * Every user-facing failure becomes a JupyterLab notification carrying the
 * server's message.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  InputDialog,
  Notification,
  WidgetTracker,
  showDialog
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import {
  addIcon,
  collapseAllIcon,
  deleteIcon,
  downloadIcon,
  editIcon,
  fileUploadIcon,
  newFolderIcon,
  refreshIcon,
  runIcon,
  stopIcon,
  terminalIcon
} from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { errorMessage } from './api';
import { ContainerClient } from './client';
import { ContainerDrive, DRIVE_NAME, toDrivePath, toLocalPath } from './drive';
import { ContainerManagerModel } from './model';
import { CommandIDs } from './panel/commandids';
import { CreateContainerForm } from './panel/createdialog';
import { ExplorerController } from './panel/explorer';
import { takeDroppedFiles } from './panel/files';
import { basename, dirname, isValidName, join } from './paths';
import { PreviewWidget } from './preview';
import { SocketPool } from './sockets';
import { ContainerTerminal } from './terminal';
import { PreviewTarget } from './types';
import { IDroppedFile } from './upload';

/** Settings the commands read (kept current by the plugin). */
export interface ICommandSettings {
  defaultImage: string;
  openPreviewsIn: PreviewTarget;
}

export interface ICommandContext {
  app: JupyterFrontEnd;
  client: ContainerClient;
  sockets: SocketPool;
  model: ContainerManagerModel;
  explorer: ExplorerController;
  drive: ContainerDrive;
  docManager: IDocumentManager;
  terminals: WidgetTracker<ContainerTerminal>;
  previews: WidgetTracker<PreviewWidget>;
  settings: ICommandSettings;
  showPanel: () => void;
}

/** Show an error as a notification with the server's message. */
export function notifyError(title: string, error: unknown): void {
  console.error(`jupyter-container-manager: ${title}`, error);
  Notification.error(`${title}: ${errorMessage(error)}`, { autoClose: 10000 });
}

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

export function registerCommands(ctx: ICommandContext): void {
  const { app, client, model, explorer, drive, docManager } = ctx;
  const { commands } = app;

  const containerIdOf = (args: ReadonlyPartialJSONObject): string | null =>
    (args.id as string) ?? (args.containerId as string) ?? model.selectedId;

  const nameOf = (id: string) => model.find(id)?.name ?? id.slice(0, 8);

  const explorerContainer = (): string | null => explorer.target?.id ?? null;

  const hasContainer = () => model.selectedId !== null;
  const hasExplorer = () => explorer.target !== null;

  /** Close every tab that belongs to a (deleted) container. */
  const closeWidgetsOf = (id: string) => {
    ctx.terminals.forEach(widget => {
      if (widget.containerId === id) {
        widget.close();
      }
    });
    ctx.previews.forEach(widget => {
      if (widget.containerId === id) {
        widget.close();
      }
    });
    const prefix = `${DRIVE_NAME}:${id}`;
    for (const widget of Array.from(app.shell.widgets('main'))) {
      const context = docManager.contextForWidget(widget);
      if (
        context &&
        (context.path === prefix || context.path.startsWith(prefix + '/'))
      ) {
        // Its file is gone: nothing left to save.
        context.model.dirty = false;
        widget.close();
      }
    }
  };

  commands.addCommand(CommandIDs.showPanel, {
    label: 'Show Containers Panel',
    execute: () => ctx.showPanel()
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh Containers',
    caption: 'Refresh the container list',
    icon: refreshIcon,
    execute: async () => {
      try {
        await model.refresh();
      } catch (error) {
        notifyError('Could not list containers', error);
      }
    }
  });

  commands.addCommand(CommandIDs.create, {
    label: 'New Container…',
    caption: 'Create a container',
    icon: addIcon,
    execute: async () => {
      const result = await showDialog({
        title: 'New Container',
        body: new CreateContainerForm(ctx.settings.defaultImage),
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create' })],
        focusNodeSelector: 'input'
      });
      if (!result.button.accept || !result.value) {
        return;
      }
      const creating = model.create(result.value);
      Notification.promise<{ name: string }>(creating.then(info => ({ name: info.name })), {
        pending: { message: 'Creating a container…', options: { autoClose: false } },
        success: {
          message: info => `Container "${(info as { name: string }).name}" is running`,
          options: { autoClose: 3000 }
        },
        error: {
          message: error => `Could not create the container: ${errorMessage(error)}`,
          options: { autoClose: 10000 }
        }
      });
      try {
        const info = await creating;
        ctx.showPanel();
        return info.id;
      } catch (error) {
        console.error('jupyter-container-manager: create failed', error);
        return undefined;
      }
    }
  });

  const lifecycle = (
    id: string,
    action: 'start' | 'stop' | 'restart',
    label: string,
    icon: typeof runIcon
  ) =>
    commands.addCommand(id, {
      label: args =>
        args.id ? `${label} ${nameOf(args.id as string)}` : `${label} Selected Container`,
      caption: `${label} the container`,
      icon,
      isEnabled: args => containerIdOf(args) !== null,
      execute: async args => {
        const containerId = containerIdOf(args);
        if (!containerId) {
          return;
        }
        try {
          await model.action(containerId, action);
        } catch (error) {
          notifyError(`Could not ${action} "${nameOf(containerId)}"`, error);
        }
      }
    });
  lifecycle(CommandIDs.start, 'start', 'Start', runIcon);
  lifecycle(CommandIDs.stop, 'stop', 'Stop', stopIcon);
  lifecycle(CommandIDs.restart, 'restart', 'Restart', refreshIcon);

  commands.addCommand(CommandIDs.deleteContainer, {
    label: args =>
      args.id ? `Delete ${nameOf(args.id as string)}…` : 'Delete Selected Container…',
    caption: 'Delete the container',
    icon: deleteIcon,
    isEnabled: args => containerIdOf(args) !== null,
    execute: async args => {
      const containerId = containerIdOf(args);
      if (!containerId) {
        return;
      }
      const name = nameOf(containerId);
      const result = await showDialog({
        title: 'Delete Container',
        body: `Delete "${name}"? Its files, processes and terminals are lost.`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        await model.remove(containerId);
        explorer.forget(containerId);
        closeWidgetsOf(containerId);
        Notification.success(`Deleted "${name}"`, { autoClose: 3000 });
      } catch (error) {
        notifyError(`Could not delete "${name}"`, error);
      }
    }
  });

  commands.addCommand(CommandIDs.openTerminal, {
    label: args =>
      args.containerId || args.id
        ? `Open Terminal in ${nameOf(containerIdOf(args)!)}`
        : 'Open Terminal in Selected Container',
    caption: 'Open a terminal in the container',
    icon: terminalIcon,
    isEnabled: args => containerIdOf(args) !== null,
    execute: args => {
      const containerId = containerIdOf(args);
      if (!containerId) {
        return;
      }
      const terminalId = (args.terminalId as string) ?? null;
      if (terminalId) {
        const open = ctx.terminals.find(
          w => w.containerId === containerId && w.terminalId === terminalId
        );
        if (open) {
          app.shell.activateById(open.id);
          return open;
        }
      }
      const name = model.find(containerId)?.name ?? (args.name as string) ?? nameOf(containerId);
      const widget = new ContainerTerminal({
        socket: ctx.sockets.get(containerId),
        containerName: name,
        terminalId,
        key: (args.key as string) ?? undefined
      });
      widget.id = `jp-ContainerManager-terminal-${Date.now()}-${Math.round(
        Math.random() * 1e6
      )}`;
      widget.title.icon = terminalIcon;
      widget.node.dataset.containerId = containerId;
      widget.terminalIdChanged.connect(() => void ctx.terminals.save(widget));
      void ctx.terminals.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      widget.ready.catch(error => notifyError('Could not open a terminal', error));
      return widget;
    }
  });

  commands.addCommand(CommandIDs.openFile, {
    label: 'Open File',
    caption: 'Open the file in an editor tab',
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
        notifyError('Could not open', basename(path));
      }
      return widget;
    }
  });

  const askName = async (title: string, value = '') => {
    const result = await InputDialog.getText({
      title,
      label: 'Name',
      text: value,
      placeholder: value || 'name'
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    const name = result.value.trim();
    if (!isValidName(name)) {
      Notification.error(`"${name}" is not a valid name`, { autoClose: 5000 });
      return null;
    }
    return name;
  };

  const create = (kind: 'file' | 'folder') => async (args: ReadonlyPartialJSONObject) => {
    const containerId = explorerContainer();
    if (!containerId) {
      return;
    }
    const name = await askName(kind === 'file' ? 'New File' : 'New Folder');
    if (!name) {
      return;
    }
    const directory = (args.directory as string) ?? explorer.currentDirectory;
    const path = join(directory, name);
    if (explorer.tree?.has(path)) {
      Notification.error(`EEXIST: "${path}" already exists`, { autoClose: 5000 });
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
      notifyError(`Could not create ${basename(path)}`, error);
    }
  };

  commands.addCommand(CommandIDs.newFile, {
    label: 'New File in Container…',
    caption: 'New file',
    icon: addIcon,
    isEnabled: hasExplorer,
    execute: create('file')
  });

  commands.addCommand(CommandIDs.newFolder, {
    label: 'New Folder in Container…',
    caption: 'New folder',
    icon: newFolderIcon,
    isEnabled: hasExplorer,
    execute: create('folder')
  });

  commands.addCommand(CommandIDs.rename, {
    label: 'Rename…',
    caption: 'Rename the selected file or folder',
    icon: editIcon,
    isEnabled: () => hasExplorer() && explorer.selectedPath !== null,
    execute: async args => {
      const containerId = explorerContainer();
      const path = (args.path as string) ?? explorer.selectedPath;
      if (!containerId || !path || path === '/') {
        return;
      }
      const name = await askName('Rename', basename(path));
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
        notifyError(`Could not rename ${basename(path)}`, error);
      }
    }
  });

  commands.addCommand(CommandIDs.deletePath, {
    label: 'Delete…',
    caption: 'Delete the selected file or folder',
    icon: deleteIcon,
    isEnabled: () => hasExplorer() && explorer.selectedPath !== null,
    execute: async args => {
      const containerId = explorerContainer();
      const path = (args.path as string) ?? explorer.selectedPath;
      if (!containerId || !path || path === '/') {
        return;
      }
      const isDir = explorer.tree?.get(path)?.type === 'directory';
      const result = await showDialog({
        title: isDir ? 'Delete Folder' : 'Delete File',
        body: `Delete ${isDir ? 'the folder' : ''} "${path}"${
          isDir ? ' and everything in it' : ''
        }?`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        await drive.delete(toLocalPath(containerId, path));
        await explorer.list(dirname(path));
      } catch (error) {
        notifyError(`Could not delete ${basename(path)}`, error);
      }
    }
  });

  commands.addCommand(CommandIDs.download, {
    label: 'Download',
    caption: 'Download the selected file (a folder as a zip)',
    icon: downloadIcon,
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
        notifyError(`Could not download ${basename(path)}`, error);
      }
    }
  });

  commands.addCommand(CommandIDs.upload, {
    label: 'Upload Files to Container…',
    caption: 'Upload files',
    icon: fileUploadIcon,
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
        files = (await pickFiles()).map(file => ({ file, relativePath: file.name }));
      }
      if (!files || files.length === 0) {
        return;
      }
      try {
        const items = await explorer.upload(directory, files);
        const failed = items.filter(item => item.status === 'error');
        for (const item of failed) {
          Notification.error(`Could not upload ${item.path}: ${item.error}`, {
            autoClose: 10000
          });
        }
        const done = items.filter(item => item.status === 'done').length;
        if (done > 0 && failed.length === 0) {
          Notification.success(`Uploaded ${done} file(s)`, { autoClose: 3000 });
        }
      } catch (error) {
        notifyError('Could not upload', error);
      }
    }
  });

  commands.addCommand(CommandIDs.refreshFiles, {
    label: 'Refresh Container Files',
    caption: 'Read the file tree again',
    icon: refreshIcon,
    isEnabled: hasExplorer,
    execute: () => explorer.reload()
  });

  commands.addCommand(CommandIDs.collapseAll, {
    label: 'Collapse All Folders',
    caption: 'Collapse all folders',
    icon: collapseAllIcon,
    isEnabled: hasExplorer,
    execute: () => explorer.tree?.collapseAll()
  });

  commands.addCommand(CommandIDs.openPreview, {
    label: args =>
      args.port ? `Open Preview of Port ${args.port}` : 'Open Preview…',
    caption: 'Open the preview of a port in the container',
    isEnabled: hasContainer,
    execute: async args => {
      const containerId = containerIdOf(args);
      if (!containerId) {
        return;
      }
      let port = Number(args.port);
      let url = args.url as string | undefined;
      const target = (args.target as PreviewTarget) ?? ctx.settings.openPreviewsIn;
      if (target === 'browser' && url && Number.isInteger(port) && port > 0) {
        window.open(client.absoluteUrl(url), '_blank', 'noopener,noreferrer');
        return;
      }
      // A new browser tab must open in the click's own task (popup blockers).
      const early = target === 'browser' ? window.open('about:blank', '_blank') : null;
      try {
        if (!Number.isInteger(port) || port <= 0) {
          const ports = model.ports(containerId);
          const answer = await InputDialog.getNumber({
            title: 'Open Preview',
            label: 'Port',
            value: ports[0]?.port ?? 3000
          });
          if (!answer.button.accept || answer.value === null) {
            early?.close();
            return;
          }
          port = answer.value;
          url = undefined;
        }
        if (!url) {
          url = (await client.previewUrl(containerId, port)).url;
        }
        const absolute = client.absoluteUrl(url);
        if (target === 'browser') {
          if (early) {
            early.opener = null;
            early.location.href = absolute;
          } else {
            window.open(absolute, '_blank', 'noopener,noreferrer');
          }
          return;
        }
        const open = ctx.previews.find(
          w => w.containerId === containerId && w.port === port
        );
        if (open) {
          app.shell.activateById(open.id);
          open.reload();
          return open;
        }
        const widget = new PreviewWidget({
          containerId,
          containerName: nameOf(containerId),
          port,
          url: absolute
        });
        widget.id = `jp-ContainerManager-preview-${containerId}-${port}`;
        void ctx.previews.add(widget);
        app.shell.add(widget, 'main', { mode: 'split-right' });
        app.shell.activateById(widget.id);
        return widget;
      } catch (error) {
        early?.close();
        notifyError(`Could not open the preview of port ${port}`, error);
      }
    }
  });
}
