/**
 * The panel's view of the `/container` WebSocket client, which lives in the
 * browser WebContainer client (./webcontainer/socket), plus the URL built from
 * JupyterLab's server settings.
 */
import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';

export * from './webcontainer/socket';
export {
  ClientEvent,
  ServerEvent,
  SUBPROTOCOL,
  SUBPROTOCOLS
} from './webcontainer/protocol.generated';

/**
 * The URL of `/container`, built like JupyterLab's own terminal socket:
 * the settings' wsUrl, plus the token when the settings say to append it.
 */
export function containerSocketUrl(
  settings: Pick<ServerConnection.ISettings, 'wsUrl' | 'token' | 'appendToken'>
): string {
  let url = URLExt.join(settings.wsUrl, 'container');
  if (settings.appendToken && settings.token) {
    url += `?token=${encodeURIComponent(settings.token)}`;
  }
  return url;
}
