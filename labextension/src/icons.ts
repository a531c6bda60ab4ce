/**
 * The extension's icon (the side panel's tab; the settings editor finds it by
 * its name, `jupyter-container-manager:container`).
 */
import { LabIcon } from '@jupyterlab/ui-components';

export const containerIcon = new LabIcon({
  name: 'jupyter-container-manager:container',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M12 2 3 6.5v11L12 22l9-4.5v-11L12 2zm0 2.2 6.6 3.3L12 10.8 5.4 7.5 12 4.2z' +
    'M5 9.1l6 3v7.6l-6-3V9.1zm8 10.6v-7.6l6-3v7.6l-6 3z"/></g></svg>'
});
