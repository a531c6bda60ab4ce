/**
 * Container commands: list, create, start/stop/restart, delete, terminals.
 */
import {
  Dialog,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import {
  addIcon,
  deleteIcon,
  refreshIcon,
  runIcon,
  stopIcon,
  terminalIcon
} from '@jupyterlab/ui-components';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { nullTranslator } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { errorText } from '../api';
import { DRIVE_NAME } from '../drive';
import { CommandIDs } from '../panel/commandids';
import { CreateContainerForm } from '../panel/createdialog';
import { containerIcon } from '../icons';
import { STARTER_TEMPLATES, findTemplate, templateText } from '../templates';
import { ContainerTerminal, TerminalOptions } from '../terminal';
import { CONTAINER_ARGS, describeArgs } from './args';
import {
  ICommandContext,
  containerIdOf as containerOf,
  nameOf as nameIn,
  notifyError
} from './context';

/** What the container commands need beyond the shared context. */
export interface IContainerCommandContext extends ICommandContext {
  /** Closes the editor tabs of a deleted container's files. */
  docManager: IDocumentManager;
  /** Shows the side panel. */
  showPanel: () => void;
  /** The user's terminal settings (JupyterLab's terminal), read at open. */
  terminalOptions?: () => TerminalOptions;
}

export function registerContainerCommands(ctx: IContainerCommandContext): void {
  const { app, docManager } = ctx;
  const { model, explorer } = ctx.manager;
  const trans = (ctx.translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const { commands } = app;
  const containerIdOf = (args: ReadonlyPartialJSONObject) =>
    containerOf(ctx, args);
  const nameOf = (id: string) => nameIn(ctx, id);

  /** Close every tab that belongs to a (deleted) container. */
  const closeWidgetsOf = (id: string) => {
    ctx.manager.terminals.forEach(widget => {
      if (widget.containerId === id) {
        widget.close();
      }
    });
    ctx.manager.previews.forEach(widget => {
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
    label: trans.__('Show Containers Panel'),
    describedBy: describeArgs({}),
    execute: () => ctx.showPanel()
  });

  commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh Containers'),
    describedBy: describeArgs({}),
    caption: trans.__('Refresh the container list'),
    icon: refreshIcon,
    execute: async () => {
      try {
        await model.refresh();
      } catch (error) {
        notifyError(trans.__('Could not list containers'), error, trans);
      }
    }
  });

  commands.addCommand(CommandIDs.create, {
    label: args =>
      args.isLauncher
        ? templateText(trans, findTemplate(args.template as string)).label
        : args.template
          ? trans.__(
              'New Container: %1…',
              templateText(trans, findTemplate(args.template as string)).label
            )
          : trans.__('New Container…'),
    describedBy: describeArgs({
      template: {
        type: 'string',
        description: 'The starter template chosen in the dialog',
        enum: STARTER_TEMPLATES.map(t => t.id)
      }
    }),
    caption: args =>
      args.template
        ? templateText(trans, findTemplate(args.template as string)).description
        : trans.__('Create a container'),
    icon: args => (args.isLauncher ? containerIcon : addIcon),
    execute: async args => {
      const result = await showDialog({
        title: trans.__('New Container'),
        body: new CreateContainerForm(
          ctx.manager.settings.defaultImage,
          args.template as string | undefined,
          trans,
          ctx.manager.client.listSnapshots()
        ),
        buttons: [
          Dialog.cancelButton(),
          Dialog.okButton({ label: trans.__('Create') })
        ],
        focusNodeSelector: 'input'
      });
      if (!result.button.accept || !result.value) {
        return;
      }
      const creating = model.create(result.value);
      Notification.promise<{ name: string }>(
        creating.then(info => ({ name: info.name })),
        {
          pending: {
            message: trans.__('Creating a container…'),
            options: { autoClose: false }
          },
          success: {
            message: info =>
              trans.__(
                'Container "%1" is running',
                (info as { name: string }).name
              ),
            options: { autoClose: 3000 }
          },
          error: {
            message: error =>
              trans.__(
                'Could not create the container: %1',
                errorText(trans, error)
              ),
            options: { autoClose: 10000 }
          }
        }
      );
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
    icon: typeof runIcon,
    labelFor: (name: string) => string,
    caption: string,
    failed: (name: string) => string
  ) =>
    commands.addCommand(id, {
      label: args => (args.id ? labelFor(nameOf(args.id as string)) : label),
      caption,
      describedBy: describeArgs(CONTAINER_ARGS),
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
          notifyError(failed(nameOf(containerId)), error, trans);
        }
      }
    });
  lifecycle(
    CommandIDs.start,
    'start',
    trans.__('Start Selected Container'),
    runIcon,
    name => trans.__('Start %1', name),
    trans.__('Start the container'),
    name => trans.__('Could not start "%1"', name)
  );
  lifecycle(
    CommandIDs.stop,
    'stop',
    trans.__('Stop Selected Container'),
    stopIcon,
    name => trans.__('Stop %1', name),
    trans.__('Stop the container'),
    name => trans.__('Could not stop "%1"', name)
  );
  lifecycle(
    CommandIDs.restart,
    'restart',
    trans.__('Restart Selected Container'),
    refreshIcon,
    name => trans.__('Restart %1', name),
    trans.__('Restart the container'),
    name => trans.__('Could not restart "%1"', name)
  );

  commands.addCommand(CommandIDs.deleteContainer, {
    label: args =>
      args.id
        ? trans.__('Delete %1…', nameOf(args.id as string))
        : trans.__('Delete Selected Container…'),
    caption: trans.__('Delete the container'),
    icon: deleteIcon,
    describedBy: describeArgs(CONTAINER_ARGS),
    isEnabled: args => containerIdOf(args) !== null,
    execute: async args => {
      const containerId = containerIdOf(args);
      if (!containerId) {
        return;
      }
      const name = nameOf(containerId);
      const result = await showDialog({
        title: trans.__('Delete Container'),
        body: trans.__(
          'Delete "%1"? Its files, processes and terminals are lost.',
          name
        ),
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        await model.remove(containerId);
        explorer.forget(containerId);
        closeWidgetsOf(containerId);
        Notification.success(trans.__('Deleted "%1"', name), {
          autoClose: 3000
        });
      } catch (error) {
        notifyError(trans.__('Could not delete "%1"', name), error, trans);
      }
    }
  });

  commands.addCommand(CommandIDs.openTerminal, {
    label: args =>
      args.containerId || args.id
        ? trans.__('Open Terminal in %1', nameOf(containerIdOf(args)!))
        : trans.__('Open Terminal in Selected Container'),
    caption: trans.__('Open a terminal in the container'),
    icon: terminalIcon,
    describedBy: describeArgs({
      ...CONTAINER_ARGS,
      terminalId: {
        type: 'string',
        description: 'A running terminal to show again (default: a new shell)'
      },
      name: {
        type: 'string',
        description: 'The container name in the tab title, until it is known'
      },
      key: {
        type: 'string',
        description: 'The tab key kept in the workspace (default: a new one)'
      }
    }),
    isEnabled: args => containerIdOf(args) !== null,
    execute: args => {
      const containerId = containerIdOf(args);
      if (!containerId) {
        return;
      }
      const terminalId = (args.terminalId as string) ?? null;
      if (terminalId) {
        const open = ctx.manager.terminals.find(
          w => w.containerId === containerId && w.terminalId === terminalId
        );
        if (open) {
          app.shell.activateById(open.id);
          return open;
        }
      }
      const name =
        model.find(containerId)?.name ??
        (args.name as string) ??
        nameOf(containerId);
      const widget = new ContainerTerminal({
        socket: ctx.manager.sockets.get(containerId),
        containerName: name,
        serverSettings: app.serviceManager.serverSettings,
        terminalId,
        key: (args.key as string) ?? undefined,
        terminalOptions: ctx.terminalOptions?.() ?? {},
        translator: ctx.translator
      });
      widget.id = `jp-ContainerManager-terminal-${Date.now()}-${Math.round(
        Math.random() * 1e6
      )}`;
      widget.title.icon = terminalIcon;
      widget.terminalIdChanged.connect(
        () => void ctx.manager.terminals.save(widget)
      );
      void ctx.manager.terminals.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      widget.ready.catch(error =>
        notifyError(trans.__('Could not open a terminal'), error, trans)
      );
      return widget;
    }
  });

  registerOpenTerminalIn(ctx);
}

/**
 * "Open a terminal in a container" (the palette): pick one of the running
 * containers, or create one when none runs.
 */
export function registerOpenTerminalIn(ctx: IContainerCommandContext): void {
  const { app } = ctx;
  const { model } = ctx.manager;
  const trans = (ctx.translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  app.commands.addCommand(CommandIDs.openTerminalIn, {
    label: trans.__('Open a Terminal in a Container…'),
    caption: trans.__('Choose a running container and open a terminal in it'),
    icon: terminalIcon,
    describedBy: describeArgs({}),
    execute: async () => {
      await model.refresh().catch(() => undefined);
      const running = model.containers.filter(c => c.status === 'running');
      if (running.length === 0) {
        const answer = await showDialog({
          title: trans.__('Open a Terminal in a Container'),
          body: trans.__('No container is running. Create one?'),
          buttons: [
            Dialog.cancelButton(),
            Dialog.okButton({ label: trans.__('New Container…') })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        const id = await app.commands.execute(CommandIDs.create);
        if (typeof id === 'string') {
          return app.commands.execute(CommandIDs.openTerminal, {
            containerId: id
          });
        }
        return;
      }
      const label = (c: { name: string; id: string }) =>
        `${c.name} (${c.id.slice(0, 12)})`;
      const selected = model.selected;
      const current =
        selected && selected.status === 'running'
          ? running.findIndex(c => c.id === selected.id)
          : 0;
      const choice = await InputDialog.getItem({
        title: trans.__('Open a Terminal in a Container'),
        label: trans.__('Container'),
        items: running.map(label),
        current: Math.max(current, 0)
      });
      if (!choice.button.accept || choice.value === null) {
        return;
      }
      const container = running.find(c => label(c) === choice.value);
      if (container) {
        return app.commands.execute(CommandIDs.openTerminal, {
          containerId: container.id
        });
      }
    }
  });
}
