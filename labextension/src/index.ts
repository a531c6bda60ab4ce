/**
 * jupyter-container-manager: the JupyterLab side of real Docker containers.
 *
 * A left side panel (containers, files, previews), terminal tabs on PTYs,
 * container files in JupyterLab's editor, previews in iframe tabs. Several
 * plugins share one container manager service; other extensions require it
 * with the IContainerManager token.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { commandsPlugin } from './plugins/commands';
import { corePlugin } from './plugins/core';
import { drivePlugin } from './plugins/drive';
import { fileBrowserPlugin } from './plugins/filebrowser';
import { imagePullsPlugin } from './plugins/imagepulls';
import { launcherPlugin } from './plugins/launcher';
import { panelPlugin } from './plugins/panel';
import { previewsPlugin } from './plugins/previews';
import { settingsPlugin } from './plugins/settings';

export { containerIcon } from './icons';
export { IContainerManager } from './tokens';
export type { IContainerManagerSettings } from './tokens';

const plugins: JupyterFrontEndPlugin<any>[] = [
  corePlugin,
  settingsPlugin,
  commandsPlugin,
  drivePlugin,
  previewsPlugin,
  panelPlugin,
  launcherPlugin,
  fileBrowserPlugin,
  imagePullsPlugin
];

export default plugins;
