/**
 * The container commands plugin: list, create, start, stop, restart and
 * delete containers, and terminal tabs (JupyterLab's own terminal widget,
 * restored with the layout, following the user's terminal settings and the
 * theme).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  ICommandPalette,
  IThemeManager
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { copyIcon, pasteIcon } from '@jupyterlab/ui-components';

import {
  registerContainerCommands,
  registerHistoryCommands,
  registerNotebookCommands
} from '../commands';
import { CommandIDs } from '../panel/commandids';
import { TerminalOptions } from '../terminal';
import { IContainerManager } from '../tokens';
import { CATEGORY } from './palette';
import { PANEL_ID } from './panel';

export const COMMANDS_PLUGIN_ID = 'jupyter-container-manager:commands';

/** Where JupyterLab keeps the user's terminal settings. */
export const TERMINAL_SETTINGS_ID = '@jupyterlab/terminal-extension:plugin';

/** The terminal settings that are options of the terminal widget. */
const TERMINAL_OPTION_KEYS = [
  'fontFamily',
  'fontSize',
  'lineHeight',
  'theme',
  'screenReaderMode',
  'scrollback',
  'closeOnExit',
  'pasteWithCtrlV',
  'macOptionIsMeta',
  'cursorBlink'
];

/** The widget options in the terminal settings (unset ones left out). */
export function terminalOptionsFrom(composite: {
  [key: string]: unknown;
}): TerminalOptions {
  const options: { [key: string]: unknown } = {};
  for (const key of TERMINAL_OPTION_KEYS) {
    if (composite[key] !== undefined && composite[key] !== null) {
      options[key] = composite[key];
    }
  }
  return options as TerminalOptions;
}

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  docManager: IDocumentManager,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  themeManager: IThemeManager | null,
  settingRegistry: ISettingRegistry | null,
  translator: ITranslator | null
): void {
  const { terminals } = manager;
  let terminalOptions: TerminalOptions = {};
  registerContainerCommands({
    app,
    manager,
    docManager,
    translator: translator ?? nullTranslator,
    showPanel: () => app.shell.activateById(PANEL_ID),
    terminalOptions: () => terminalOptions
  });
  registerNotebookCommands({
    app,
    manager,
    docManager,
    translator: translator ?? nullTranslator
  });
  registerHistoryCommands({
    app,
    manager,
    translator: translator ?? nullTranslator
  });

  // The user's terminal settings, as JupyterLab's own terminals get them.
  if (settingRegistry) {
    const apply = (settings: ISettingRegistry.ISettings) => {
      terminalOptions = terminalOptionsFrom(
        settings.composite as { [key: string]: unknown }
      );
      terminals.forEach(t => t.setOptions(terminalOptions));
    };
    void settingRegistry
      .load(TERMINAL_SETTINGS_ID)
      .then(settings => {
        apply(settings);
        settings.changed.connect(apply);
      })
      .catch(() => {
        // No terminal extension: the widget's defaults.
      });
  }

  // Copy and paste in the context menu of container terminals (JupyterLab's
  // own terminal:copy and terminal:paste act on JupyterLab's terminals).
  const trans = (translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const current = () => {
    const widget = terminals.currentWidget;
    return widget && !widget.isDisposed ? widget.content : null;
  };
  app.commands.addCommand(CommandIDs.terminalCopy, {
    label: trans.__('Copy'),
    icon: copyIcon.bindprops({ stylesheet: 'menuItem' }),
    describedBy: { args: { type: 'object', properties: {} } },
    isEnabled: () => current()?.hasSelection() ?? false,
    execute: () => {
      const text = current()?.getSelection();
      if (text) {
        Clipboard.copyToSystem(text);
      }
    }
  });
  app.commands.addCommand(CommandIDs.terminalPaste, {
    label: trans.__('Paste'),
    icon: pasteIcon.bindprops({ stylesheet: 'menuItem' }),
    describedBy: { args: { type: 'object', properties: {} } },
    execute: async () => {
      const terminal = current();
      if (!terminal) {
        return;
      }
      try {
        const text = await navigator.clipboard.readText();
        if (text) {
          terminal.paste(text);
        }
      } catch {
        Clipboard.showPasteUnavailableDialog?.(
          (translator ?? nullTranslator).load('jupyterlab')
        );
      }
    }
  });
  const selector = '.jp-ContainerManager-terminal .jp-Terminal';
  app.contextMenu.addItem({
    command: CommandIDs.terminalCopy,
    selector,
    rank: 0
  });
  app.contextMenu.addItem({
    command: CommandIDs.terminalPaste,
    selector,
    rank: 0.5
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
      CommandIDs.openTerminal,
      CommandIDs.openTerminalIn,
      CommandIDs.openNotebook,
      CommandIDs.snapshot,
      CommandIDs.fork,
      CommandIDs.checkpoint
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
        name: widget.containerName
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
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    IThemeManager,
    ISettingRegistry,
    ITranslator
  ],
  activate
};
