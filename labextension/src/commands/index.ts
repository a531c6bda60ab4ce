/**
 * The extension's commands. Every user-facing failure becomes a JupyterLab
 * notification carrying the server's message.
 */
import { registerContainerCommands } from './containers';
import { ICommandContext } from './context';
import { registerFileCommands } from './files';
import { registerPreviewCommands } from './previews';

export { ICommandContext, ICommandSettings, notifyError } from './context';

export function registerCommands(ctx: ICommandContext): void {
  registerContainerCommands(ctx);
  registerFileCommands(ctx);
  registerPreviewCommands(ctx);
}
