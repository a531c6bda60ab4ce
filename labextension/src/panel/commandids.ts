/** Command ids of the extension (all in the command palette). */
export namespace CommandIDs {
  export const showPanel = 'container-manager:show-panel';
  export const create = 'container-manager:create';
  export const refresh = 'container-manager:refresh';
  export const start = 'container-manager:start';
  export const stop = 'container-manager:stop';
  export const restart = 'container-manager:restart';
  export const deleteContainer = 'container-manager:delete';
  export const openTerminal = 'container-manager:open-terminal';
  export const openTerminalIn = 'container-manager:open-terminal-in';
  export const terminalCopy = 'container-manager:terminal-copy';
  export const terminalPaste = 'container-manager:terminal-paste';
  export const browseFiles = 'container-manager:browse-files';
  export const openFile = 'container-manager:open-file';
  export const newFile = 'container-manager:new-file';
  export const newFolder = 'container-manager:new-folder';
  export const rename = 'container-manager:rename';
  export const deletePath = 'container-manager:delete-path';
  export const download = 'container-manager:download';
  export const upload = 'container-manager:upload';
  export const refreshFiles = 'container-manager:refresh-files';
  export const collapseAll = 'container-manager:collapse-all';
  export const openPreview = 'container-manager:open-preview';
  export const openNotebook = 'container-manager:open-notebook';
  export const snapshot = 'container-manager:snapshot';
  export const fork = 'container-manager:fork';
  export const checkpoint = 'container-manager:checkpoint';
  export const restoreCheckpoint = 'container-manager:restore-checkpoint';
}
