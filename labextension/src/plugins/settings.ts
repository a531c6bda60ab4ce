/**
 * The settings plugin: loads the user's settings (schema/plugin.json, named
 * after this plugin's id) into the container manager and polls the container
 * list at their interval.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { IContainerManager } from '../tokens';
import { PreviewTarget } from '../types';

/** The id the settings schema (schema/plugin.json) belongs to. */
export const SETTINGS_PLUGIN_ID = 'jupyter-container-manager:plugin';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  settingRegistry: ISettingRegistry | null
): void {
  const { model } = manager;
  const applySettings = (loaded: ISettingRegistry.ISettings) => {
    manager.updateSettings({
      defaultImage: (loaded.get('defaultImage').composite as string) ?? '',
      openPreviewsIn:
        (loaded.get('openPreviewsIn').composite as PreviewTarget) ?? 'tab',
      pollInterval: (loaded.get('pollInterval').composite as number) ?? 5
    });
    model.startPolling(manager.settings.pollInterval);
  };
  if (settingRegistry) {
    settingRegistry
      .load(SETTINGS_PLUGIN_ID)
      .then(loaded => {
        applySettings(loaded);
        loaded.changed.connect(applySettings);
      })
      .catch(error => {
        console.error('jupyter-container-manager: settings not loaded', error);
        model.startPolling(manager.settings.pollInterval);
      });
  } else {
    model.startPolling(manager.settings.pollInterval);
  }
}

export const settingsPlugin: JupyterFrontEndPlugin<void> = {
  id: SETTINGS_PLUGIN_ID,
  description:
    'Settings of the container panel (default image, where previews open, poll interval); polls the container list.',
  autoStart: true,
  requires: [IContainerManager],
  optional: [ISettingRegistry],
  activate
};
