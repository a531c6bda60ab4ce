/**
 * Snapshots, forks and checkpoints of a container: Snapshot (a name asked),
 * Fork (a number of copies asked), Checkpoint, and Restore a checkpoint (all
 * of the workdir or the paths given, after a confirmation). Each answers what
 * the server made, so the History section can show it.
 */
import {
  Dialog,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../panel/commandids';
import { CONTAINER_ARGS, describeArgs } from './args';
import { ICommandContext, containerIdOf, nameOf, notifyError } from './context';

export function registerHistoryCommands(ctx: ICommandContext): void {
  const { app } = ctx;
  const { client, model } = ctx.manager;
  const trans = (ctx.translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const running = (id: string | null) =>
    !!id && model.find(id)?.status === 'running';

  app.commands.addCommand(CommandIDs.snapshot, {
    label: trans.__('Snapshot…'),
    caption: trans.__(
      "Save the container's whole file system as a snapshot to start new containers from"
    ),
    describedBy: describeArgs({
      ...CONTAINER_ARGS,
      name: { type: 'string', description: 'The snapshot name (else asked)' }
    }),
    isEnabled: args => running(containerIdOf(ctx, args)),
    execute: async args => {
      const id = containerIdOf(ctx, args);
      if (!id) {
        return;
      }
      let name = args.name as string | undefined;
      if (name === undefined) {
        const result = await InputDialog.getText({
          title: trans.__('Snapshot of %1', nameOf(ctx, id)),
          label: trans.__('Snapshot name'),
          placeholder: trans.__('optional'),
          okLabel: trans.__('Save Snapshot')
        });
        if (!result.button.accept) {
          return;
        }
        name = result.value ?? '';
      }
      try {
        const snapshot = await client.createSnapshot(id, name || undefined);
        Notification.success(
          trans.__('Snapshot "%1" saved', snapshot.name || snapshot.id),
          { autoClose: 4000 }
        );
        return snapshot;
      } catch (error) {
        notifyError(
          trans.__('Could not snapshot "%1"', nameOf(ctx, id)),
          error,
          trans
        );
      }
    }
  });

  app.commands.addCommand(CommandIDs.fork, {
    label: trans.__('Fork…'),
    caption: trans.__('Start copies of the container, files and all'),
    describedBy: describeArgs({
      ...CONTAINER_ARGS,
      count: { type: 'number', description: 'How many copies (else asked)' }
    }),
    isEnabled: args => running(containerIdOf(ctx, args)),
    execute: async args => {
      const id = containerIdOf(ctx, args);
      if (!id) {
        return;
      }
      let count = args.count as number | undefined;
      if (count === undefined) {
        const result = await InputDialog.getNumber({
          title: trans.__('Fork %1', nameOf(ctx, id)),
          label: trans.__('Number of copies'),
          value: 1,
          okLabel: trans.__('Fork')
        });
        if (!result.button.accept || !result.value) {
          return;
        }
        count = result.value;
      }
      try {
        const forked = await client.fork(id, count);
        await model.refresh().catch(() => undefined);
        Notification.success(
          trans._n(
            'Forked "%2" into %1 container',
            'Forked "%2" into %1 containers',
            forked.containers.length,
            nameOf(ctx, id)
          ),
          { autoClose: 4000 }
        );
        return forked.containers.map(c => c.id);
      } catch (error) {
        notifyError(
          trans.__('Could not fork "%1"', nameOf(ctx, id)),
          error,
          trans
        );
      }
    }
  });

  app.commands.addCommand(CommandIDs.checkpoint, {
    label: trans.__('Checkpoint'),
    caption: trans.__(
      'Record the files of the workdir that changed since the last checkpoint'
    ),
    describedBy: describeArgs(CONTAINER_ARGS),
    isEnabled: args => running(containerIdOf(ctx, args)),
    execute: async args => {
      const id = containerIdOf(ctx, args);
      if (!id) {
        return;
      }
      try {
        return await client.createCheckpoint(id);
      } catch (error) {
        notifyError(
          trans.__('Could not checkpoint "%1"', nameOf(ctx, id)),
          error,
          trans
        );
      }
    }
  });

  app.commands.addCommand(CommandIDs.restoreCheckpoint, {
    label: args =>
      args.paths
        ? trans.__('Restore from Checkpoint…')
        : trans.__('Restore All from Checkpoint…'),
    caption: trans.__('Bring files back as they were at a checkpoint'),
    describedBy: describeArgs({
      ...CONTAINER_ARGS,
      checkpoint: { type: 'string', description: 'The checkpoint id' },
      paths: {
        type: 'array',
        items: { type: 'string' },
        description: 'Only these files and folders (default: all the workdir)'
      }
    }),
    isEnabled: args =>
      running(containerIdOf(ctx, args)) && typeof args.checkpoint === 'string',
    execute: async args => {
      const id = containerIdOf(ctx, args);
      const checkpoint = args.checkpoint as string | undefined;
      if (!id || !checkpoint) {
        return;
      }
      const paths = args.paths as string[] | undefined;
      const result = await showDialog({
        title: paths
          ? trans.__('Restore %1?', paths.join(', '))
          : trans.__('Restore all files of %1?', nameOf(ctx, id)),
        body: paths
          ? trans.__(
              'The file comes back as it was at this checkpoint; its changes since are lost.'
            )
          : trans.__(
              'Every file of the workdir comes back as it was at this checkpoint; files made since are removed.'
            ),
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: trans.__('Restore') })
        ]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        const restored = await client.restoreCheckpoint(id, checkpoint, paths);
        Notification.success(
          trans._n(
            'Restored %1 file',
            'Restored %1 files',
            restored.restored.length
          ),
          { autoClose: 3000 }
        );
        return restored;
      } catch (error) {
        notifyError(
          trans.__('Could not restore "%1"', nameOf(ctx, id)),
          error,
          trans
        );
      }
    }
  });
}
