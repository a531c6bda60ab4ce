/**
 * "Open a Notebook in this Container": the server starts a kernel in the
 * container with a notebook session for a path; the notebook opens in
 * JupyterLab, which finds that session and so uses the container's kernel.
 */
import { IDocumentManager } from '@jupyterlab/docmanager';
import { nullTranslator } from '@jupyterlab/translation';
import { notebookIcon } from '@jupyterlab/ui-components';

import { notebookPathFor } from '../notebooks';
import { CommandIDs } from '../panel/commandids';
import { CONTAINER_ARGS, describeArgs } from './args';
import { ICommandContext, containerIdOf, nameOf, notifyError } from './context';

export function registerNotebookCommands(
  ctx: ICommandContext & { docManager: IDocumentManager }
): void {
  const { app, docManager } = ctx;
  const trans = (ctx.translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  app.commands.addCommand(CommandIDs.openNotebook, {
    label: args =>
      args.id || args.containerId
        ? trans.__(
            'Open a Notebook in %1',
            nameOf(ctx, containerIdOf(ctx, args)!)
          )
        : trans.__('Open a Notebook in the Selected Container'),
    caption: trans.__(
      'A notebook whose kernel runs in the container, in its workdir'
    ),
    describedBy: describeArgs({
      ...CONTAINER_ARGS,
      path: {
        type: 'string',
        description:
          'The notebook, relative to the server root (default: <container name>.ipynb)'
      }
    }),
    icon: notebookIcon,
    isEnabled: args => {
      const id = containerIdOf(ctx, args);
      return !!id && ctx.manager.model.find(id)?.status === 'running';
    },
    execute: async args => {
      const id = containerIdOf(ctx, args);
      if (!id) {
        return;
      }
      const path =
        (args.path as string | undefined) ?? notebookPathFor(nameOf(ctx, id));
      try {
        const opened = await ctx.manager.client.openKernel(id, path);
        // The session manager learns of the new session, so the notebook's
        // session context connects to it (and its kernel) on open; the kernel
        // spec manager of the container's own spec, whose display name
        // ("Python 3 (container <name>)") the kernel indicator shows.
        await Promise.all([
          app.serviceManager.sessions.refreshRunning(),
          app.serviceManager.kernelspecs.refreshSpecs()
        ]);
        // Its kernel named too: should the session list above still be the one
        // from before the session was made, the notebook connects to this kernel
        // (the server answers the path's existing session) instead of asking for one.
        return docManager.openOrReveal(opened.path, undefined, {
          id: opened.kernel.id,
          name: opened.kernel.name
        });
      } catch (error) {
        notifyError(
          trans.__('Could not open a notebook in "%1"', nameOf(ctx, id)),
          error,
          trans
        );
      }
    }
  });
}
