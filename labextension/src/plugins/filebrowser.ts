/**
 * The file browser plugin: JupyterLab's own file browser on a container's
 * files (the `container` contents drive), in a main-area tab. Made by
 * JupyterLab's file browser factory, so every file browser command works on
 * it as on the default one: multi-select, cut/copy/paste, drag-move, rename,
 * delete, duplicate, download, new file and folder, sort, filter, keyboard
 * navigation, and opening files in JupyterLab's editors. Changes made in the
 * container by anyone show at once (the drive follows its `fs-change`).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import {
  FileBrowser,
  FilterFileBrowserModel,
  IFileBrowserFactory,
  Uploader
} from '@jupyterlab/filebrowser';
import { PathExt } from '@jupyterlab/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import {
  ToolbarButton,
  caretUpIcon,
  folderIcon,
  homeIcon,
  newFolderIcon,
  refreshIcon,
  addIcon
} from '@jupyterlab/ui-components';

import { describeArgs, CONTAINER_ARGS } from '../commands/args';
import { containerIdOf, nameOf, notifyError } from '../commands/context';
import { DRIVE_NAME } from '../drive';
import { CommandIDs } from '../panel/commandids';
import { IContainerManager } from '../tokens';
import { CATEGORY } from './palette';

export const FILEBROWSER_PLUGIN_ID = 'jupyter-container-manager:filebrowser';

/** The class of a container's file browser tab. */
export const CONTAINER_FILEBROWSER_CLASS = 'jp-ContainerManager-fileBrowser';

/** How often a container's file browser lists again anyway (changes come pushed). */
const REFRESH_INTERVAL_MS = 5 * 60 * 1000;

/** The container a file browser tab shows. */
export function containerOfBrowser(widget: { node: HTMLElement }): string {
  return widget.node.dataset.containerId ?? '';
}

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  factory: IFileBrowserFactory,
  docManager: IDocumentManager,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  translator: ITranslator | null
): void {
  translator = translator ?? nullTranslator;
  const trans = translator.load('jupyter_container_manager');
  const ctx = { app, manager, translator };
  const tracker = new WidgetTracker<FileBrowser>({
    namespace: 'container-manager-files'
  });

  const open = async (containerId: string): Promise<FileBrowser> => {
    const existing = tracker.find(w => containerOfBrowser(w) === containerId);
    if (existing) {
      app.shell.activateById(existing.id);
      return existing;
    }
    const name = nameOf(ctx, containerId);
    // Made as JupyterLab's factory makes file browsers, with the container's
    // folder as the navigation root, and put in the factory's tracker, so
    // that the file browser commands (and their shortcuts and context menu)
    // act on it when it has the focus.
    const root = `${DRIVE_NAME}:${containerId}`;
    const model = new FilterFileBrowserModel({
      manager: docManager,
      driveName: DRIVE_NAME,
      root,
      auto: false,
      refreshInterval: REFRESH_INTERVAL_MS,
      translator
    });
    const browser = new FileBrowser({
      id: `jp-ContainerManager-files-${containerId}`,
      model,
      restore: false,
      translator
    });
    void (factory.tracker as WidgetTracker<FileBrowser>).add(browser);
    browser.addClass(CONTAINER_FILEBROWSER_CLASS);
    browser.node.dataset.containerId = containerId;
    browser.title.label = trans.__('Files: %1', name);
    browser.title.caption = trans.__('The files of container %1', name);
    browser.title.icon = folderIcon;
    browser.title.closable = true;
    browser.showFileFilter = true;
    browser.showFileCheckboxes = true;
    const { toolbar } = browser;
    toolbar.addItem(
      'home',
      new ToolbarButton({
        icon: homeIcon,
        tooltip: trans.__("The Container's Folder"),
        onClick: () => void browser.model.cd(`/${containerId}`)
      })
    );
    toolbar.addItem(
      'up',
      new ToolbarButton({
        icon: caretUpIcon,
        tooltip: trans.__('Up One Folder'),
        onClick: () => void browser.goUp()
      })
    );
    toolbar.addItem(
      'new-folder',
      new ToolbarButton({
        icon: newFolderIcon,
        tooltip: trans.__('New Folder'),
        onClick: () => void browser.createNewDirectory()
      })
    );
    toolbar.addItem(
      'new-file',
      new ToolbarButton({
        icon: addIcon,
        tooltip: trans.__('New File'),
        onClick: () => void browser.createNewFile({ ext: 'txt' })
      })
    );
    toolbar.addItem(
      'upload',
      new Uploader({ model: browser.model, translator })
    );
    toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Refresh the File List'),
        onClick: () => void browser.model.refresh()
      })
    );
    app.shell.add(browser, 'main');
    void tracker.add(browser);
    app.shell.activateById(browser.id);
    try {
      await browser.model.cd(`/${containerId}`);
    } catch (error) {
      notifyError(
        trans.__('Could not list the files of %1', name),
        error,
        trans
      );
    }
    return browser;
  };

  app.commands.addCommand(CommandIDs.browseFiles, {
    label: args =>
      args.id || args.containerId
        ? trans.__('Browse Files of %1', nameOf(ctx, containerIdOf(ctx, args)!))
        : trans.__('Browse Files of the Selected Container'),
    caption: trans.__(
      "Open JupyterLab's file browser on the container's files"
    ),
    icon: folderIcon,
    describedBy: describeArgs(CONTAINER_ARGS),
    isEnabled: args => {
      const id = containerIdOf(ctx, args);
      return id !== null && manager.model.find(id)?.status !== 'stopped';
    },
    execute: async args => {
      const containerId = containerIdOf(ctx, args);
      if (containerId) {
        return open(containerId);
      }
    }
  });

  // Changes in the folder a browser shows list it again. (JupyterLab's file
  // browser model compares a drive's changed paths with its own path with the
  // drive name twice, so it misses them on drives other than the default.)
  const { contents } = app.serviceManager;
  contents.fileChanged.connect((_, change) => {
    const changed = [change.oldValue?.path, change.newValue?.path]
      .filter((p): p is string => !!p && contents.driveName(p) === DRIVE_NAME)
      .map(p => PathExt.dirname(contents.localPath(p)));
    if (changed.length === 0) {
      return;
    }
    tracker.forEach(browser => {
      if (changed.includes(contents.localPath(browser.model.path))) {
        void browser.model.refresh();
      }
    });
  });

  // A deleted container's file browser closes.
  manager.model.changed.connect(() => {
    if (!manager.model.loaded) {
      return;
    }
    tracker.forEach(widget => {
      if (!manager.model.find(containerOfBrowser(widget))) {
        widget.close();
      }
    });
  });

  palette?.addItem({ command: CommandIDs.browseFiles, category: CATEGORY });

  if (restorer) {
    void restorer.restore(tracker, {
      command: CommandIDs.browseFiles,
      args: widget => ({ containerId: containerOfBrowser(widget) }),
      name: widget => containerOfBrowser(widget)
    });
  }
}

export const fileBrowserPlugin: JupyterFrontEndPlugin<void> = {
  id: FILEBROWSER_PLUGIN_ID,
  description:
    "JupyterLab's own file browser on a container's files, in a main-area tab.",
  autoStart: true,
  requires: [IContainerManager, IFileBrowserFactory, IDocumentManager],
  optional: [ICommandPalette, ILayoutRestorer, ITranslator],
  activate
};
