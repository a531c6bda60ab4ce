/**
 * What every command module shares: the application, the container manager
 * service (with the settings), and how failures reach the user (a
 * notification with the server's message).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { errorText } from '../api';
import { IContainerManager } from '../tokens';

export interface ICommandContext {
  /** The application: its commands and its shell. */
  app: JupyterFrontEnd;
  /** The containers, their client, trackers and settings (read when a command runs). */
  manager: IContainerManager;
  /** JupyterLab's translator (the user's language); English without it. */
  translator?: ITranslator;
}

/**
 * Show an error as a notification: the caller's translated title, then the
 * error in the user's language (errorText: the server's own words as it wrote them).
 */
export function notifyError(
  title: string,
  error: unknown,
  trans: TranslationBundle = nullTranslator.load('jupyter_container_manager')
): void {
  console.error(`jupyter-container-manager: ${title}`, error);
  Notification.error(trans.__('%1: %2', title, errorText(trans, error)), {
    autoClose: 10000
  });
}

/** The container a command acts on: its `id`/`containerId` argument, or the selected one. */
export function containerIdOf(
  ctx: ICommandContext,
  args: ReadonlyPartialJSONObject
): string | null {
  return (
    (args.id as string) ??
    (args.containerId as string) ??
    ctx.manager.model.selectedId
  );
}

/** A container's name for messages (the id's start when unknown). */
export function nameOf(ctx: ICommandContext, id: string): string {
  return ctx.manager.model.find(id)?.name ?? id.slice(0, 8);
}
