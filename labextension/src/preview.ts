/**
 * A preview tab: the proxied server of a container in a sandboxed iframe.
 * The page is untrusted, so no `allow-same-origin`: it cannot reach the
 * Jupyter API as the user, even though it is served on the Jupyter origin.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import {
  IFrame,
  ToolbarButton,
  launchIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
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
}

export class PreviewWidget extends MainAreaWidget<IFrame> {
  constructor(options: IPreviewOptions) {
    const content = new IFrame({
      sandbox: PREVIEW_SANDBOX,
      referrerPolicy: 'no-referrer'
    });
    super({ content });
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
        tooltip: 'Reload the preview',
        onClick: () => this.reload()
      })
    );
    this.toolbar.addItem(
      'open-in-browser',
      new ToolbarButton({
        icon: launchIcon,
        tooltip: 'Open in a new browser tab',
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
