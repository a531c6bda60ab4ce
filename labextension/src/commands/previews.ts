/**
 * Preview commands: open a container port in a JupyterLab tab (sandboxed
 * iframe) or a new browser tab.
 */
import { InputDialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { CommandIDs } from '../panel/commandids';
import { PreviewWidget } from '../preview';
import { PreviewTarget } from '../types';
import { CONTAINER_ARGS, describeArgs } from './args';
import {
  ICommandContext,
  containerIdOf as containerOf,
  nameOf as nameIn,
  notifyError
} from './context';

export function registerPreviewCommands(ctx: ICommandContext): void {
  const { app } = ctx;
  const trans = (ctx.translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const { client, model } = ctx.manager;
  const { commands } = app;
  const containerIdOf = (args: ReadonlyPartialJSONObject) =>
    containerOf(ctx, args);
  const nameOf = (id: string) => nameIn(ctx, id);
  const hasContainer = () => model.selectedId !== null;

  commands.addCommand(CommandIDs.openPreview, {
    label: args =>
      args.port
        ? trans.__('Open Preview of Port %1', args.port)
        : trans.__('Open Preview…'),
    caption: trans.__('Open the preview of a port in the container'),
    describedBy: describeArgs({
      ...CONTAINER_ARGS,
      port: {
        type: 'number',
        description: 'The container port (default: ask)'
      },
      target: {
        type: 'string',
        enum: ['tab', 'browser'],
        description: 'A JupyterLab tab or a browser tab (default: the setting)'
      }
    }),
    isEnabled: hasContainer,
    execute: async args => {
      const containerId = containerIdOf(args);
      if (!containerId) {
        return;
      }
      let port = Number(args.port);
      const target =
        (args.target as PreviewTarget) ?? ctx.manager.settings.openPreviewsIn;
      // A new browser tab must open in the click's own task (popup blockers).
      const early =
        target === 'browser' ? window.open('about:blank', '_blank') : null;
      try {
        if (!Number.isInteger(port) || port <= 0) {
          const ports = model.ports(containerId);
          const answer = await InputDialog.getNumber({
            title: trans.__('Open Preview'),
            label: trans.__('Port'),
            value: ports[0]?.port ?? 3000
          });
          if (!answer.button.accept || answer.value === null) {
            early?.close();
            return;
          }
          port = answer.value;
        }
        // Always a fresh URL: a preview origin's URL carries a single-use grant, and a
        // new tab or iframe may not share the cookie an earlier one bought.
        const url = (await client.previewUrl(containerId, port)).url;
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
        const open = ctx.manager.previews.find(
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
          url: absolute,
          translator: ctx.translator
        });
        widget.id = `jp-ContainerManager-preview-${containerId}-${port}`;
        void ctx.manager.previews.add(widget);
        app.shell.add(widget, 'main', { mode: 'split-right' });
        app.shell.activateById(widget.id);
        return widget;
      } catch (error) {
        early?.close();
        notifyError(
          trans.__('Could not open the preview of port %1', port),
          error,
          trans
        );
      }
    }
  });
}
