/**
 * What every command module shares: the services, the settings, and how
 * failures reach the user (a notification with the server's message).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { errorMessage } from '../api';
import { ContainerClient } from '../client';
import { ContainerDrive } from '../drive';
import { ContainerManagerModel } from '../model';
import { ExplorerController } from '../panel/explorer';
import { PreviewWidget } from '../preview';
import { SocketPool } from '../sockets';
import { ContainerTerminal } from '../terminal';
import { PreviewTarget } from '../types';

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

/** The container a command acts on: its `id`/`containerId` argument, or the selected one. */
export function containerIdOf(
  ctx: ICommandContext,
  args: ReadonlyPartialJSONObject
): string | null {
  return (args.id as string) ?? (args.containerId as string) ?? ctx.model.selectedId;
}

/** A container's name for messages (the id's start when unknown). */
export function nameOf(ctx: ICommandContext, id: string): string {
  return ctx.model.find(id)?.name ?? id.slice(0, 8);
}
