/**
 * A preview tab: the server of a container in an iframe. On an origin of its own the
 * page keeps that origin (it is cross-origin to Jupyter anyway); through the path proxy
 * on the Jupyter origin it is sandboxed without `allow-same-origin`, so it cannot reach
 * the Jupyter API as the user.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import {
  IFrame,
  ToolbarButton,
  launchIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

export const PREVIEW_SANDBOX: IFrame.SandboxExceptions[] = [
  'allow-scripts',
  'allow-forms',
  'allow-modals',
  'allow-popups',
  'allow-downloads'
];

export interface IPreviewOptions {
  containerId: string;
  containerName: string;
  port: number;
  /** The absolute URL of the preview. */
  url: string;
  /** JupyterLab's translator (the user's language); English without it. */
  translator?: ITranslator;
}

/**
 * Whether a preview URL is on an origin of its own (`http://5173-<id>.localhost:8888/`),
 * not the Jupyter origin: there the page is cross-origin to Jupyter by construction and
 * keeps its own origin (cookies, storage, hot-reload socket); on the Jupyter origin (the
 * path proxy) it gets an opaque origin.
 */
export function isOwnOrigin(url: string, jupyterOrigin: string): boolean {
  try {
    return new URL(url, jupyterOrigin).origin !== new URL(jupyterOrigin).origin;
  } catch {
    return false;
  }
}

export class PreviewWidget extends MainAreaWidget<IFrame> {
  constructor(options: IPreviewOptions) {
    const ownOrigin = isOwnOrigin(options.url, window.location.origin);
    const content = new IFrame({
      sandbox: ownOrigin
        ? [...PREVIEW_SANDBOX, 'allow-same-origin']
        : PREVIEW_SANDBOX,
      referrerPolicy: 'no-referrer'
    });
    super({ content });
    const trans = (options.translator ?? nullTranslator).load(
      'jupyter_container_manager'
    );
    this.containerId = options.containerId;
    this.port = options.port;
    this.url = options.url;
    this.addClass('jp-ContainerManager-preview');
    this.title.label = `${options.containerName}:${options.port}`;
    this.title.caption = options.url;
    this.title.closable = true;
    this.node.dataset.port = String(options.port);
    content.url = options.url;

    this.toolbar.addItem(
      'reload',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Reload the preview'),
        onClick: () => this.reload()
      })
    );
    this.toolbar.addItem(
      'open-in-browser',
      new ToolbarButton({
        icon: launchIcon,
        tooltip: trans.__('Open in a new browser tab'),
        onClick: () => window.open(this.url, '_blank', 'noopener,noreferrer')
      })
    );
    const address = new Widget();
    address.addClass('jp-ContainerManager-previewUrl');
    address.node.textContent = options.url;
    this.toolbar.addItem('url', address);
  }

  readonly containerId: string;
  readonly port: number;
  readonly url: string;

  reload(): void {
    // Setting the same URL does not reload; go through about:blank.
    this.content.url = 'about:blank';
    requestAnimationFrame(() => {
      this.content.url = this.url;
    });
  }
}
