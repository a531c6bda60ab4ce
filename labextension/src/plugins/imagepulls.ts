/**
 * The image pulls plugin: a pull of an image for a new container shows as a
 * JupyterLab notification with a progress bar, one per image, updated in
 * place; then a success, or an error with the server's reason.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ImagePullNotifications, INotifier, PushListener } from '../imagepull';
import { IWebSocketLike, SUBPROTOCOLS, containerSocketUrl } from '../socket';
import { IContainerManager } from '../tokens';
import { ServerEvent } from '../webcontainer/protocol.generated';

export const IMAGE_PULLS_PLUGIN_ID = 'jupyter-container-manager:image-pulls';

function activate(
  app: JupyterFrontEnd,
  manager: IContainerManager,
  translator: ITranslator | null
): void {
  const trans = (translator ?? nullTranslator).load(
    'jupyter_container_manager'
  );
  const serverSettings = app.serviceManager.serverSettings;
  const notifications = new ImagePullNotifications(
    Notification as unknown as INotifier,
    trans
  );
  const listener = new PushListener({
    url: () => containerSocketUrl(serverSettings),
    factory: url =>
      new serverSettings.WebSocket(url, [
        ...SUBPROTOCOLS
      ]) as unknown as IWebSocketLike,
    onPush: (event, data) => {
      if (event === ServerEvent.ImagePull) {
        notifications.handle(data);
        if (data?.status === 'done') {
          // The new container follows: list it without waiting for the poll.
          void manager.model.refresh().catch(() => undefined);
        }
      }
    }
  });
  void app.restored.then(() => listener.start());
}

export const imagePullsPlugin: JupyterFrontEndPlugin<void> = {
  id: IMAGE_PULLS_PLUGIN_ID,
  description:
    'Image pulls for new containers as notifications with a progress bar.',
  autoStart: true,
  requires: [IContainerManager],
  optional: [ITranslator],
  activate
};
