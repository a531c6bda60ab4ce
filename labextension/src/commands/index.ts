/**
 * The extension's commands, registered by the plugin of their part: the
 * containers and terminals, the files of the explorer, the previews. Every
 * user-facing failure becomes a JupyterLab notification carrying the server's
 * message.
 */
export { registerContainerCommands } from './containers';
export { registerNotebookCommands } from './notebooks';
export { registerHistoryCommands } from './history';
export type { IContainerCommandContext } from './containers';
export { registerFileCommands } from './files';
export type { IFileCommandContext } from './files';
export { registerPreviewCommands } from './previews';
export { notifyError } from './context';
export type { ICommandContext } from './context';
