/**
 * The "Previews" section: ports listening in the selected container, each a
 * link to its preview through the proxy.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { launchIcon, tabIcon } from '@jupyterlab/ui-components';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { ContainerManagerModel } from '../model';
import { CommandIDs } from './commandids';
import { NoContainerNote } from './nocontainer';
import { createSection } from './section';

class PreviewListView extends ReactWidget {
  constructor(
    private readonly _model: ContainerManagerModel,
    private readonly _commands: CommandRegistry,
    private readonly _absoluteUrl: (url: string) => string,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-ContainerManager-previews');
    _model.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    const trans = this._trans;
    const selected = this._model.selected;
    if (!selected) {
      return <NoContainerNote trans={trans} />;
    }
    const ports = this._model.ports(selected.id).filter(p => p.url);
    if (ports.length === 0) {
      return (
        <div className="jp-ContainerManager-empty">
          {trans.__(
            'No server is listening yet. Start one in a terminal, e.g. %1: its port shows here with a preview link.',
            'node server.js'
          )}
        </div>
      );
    }
    const open = (port: number, url: string, target?: string) =>
      void this._commands.execute(CommandIDs.openPreview, {
        containerId: selected.id,
        port,
        url,
        ...(target ? { target } : {})
      });
    return (
      <ul
        className="jp-ContainerManager-portList"
        aria-label={trans.__('Previews')}
      >
        {ports.map(({ port, url }) => (
          <li key={port} className="jp-ContainerManager-port" data-port={port}>
            <a
              href={this._absoluteUrl(url)}
              target="_blank"
              rel="noopener noreferrer"
              className="jp-ContainerManager-portLink"
              title={this._absoluteUrl(url)}
              onClick={event => {
                event.preventDefault();
                open(port, url);
              }}
            >
              {trans.__('Port %1', port)}
            </a>
            <span className="jp-ContainerManager-actions">
              <button
                type="button"
                className="jp-ContainerManager-iconButton"
                title={trans.__('Open port %1 in a JupyterLab tab', port)}
                aria-label={trans.__('Open port %1 in a JupyterLab tab', port)}
                onClick={() => open(port, url, 'tab')}
              >
                <tabIcon.react tag="span" elementSize="small" />
              </button>
              <button
                type="button"
                className="jp-ContainerManager-iconButton"
                title={trans.__('Open port %1 in a new browser tab', port)}
                aria-label={trans.__('Open port %1 in a new browser tab', port)}
                onClick={() => open(port, url, 'browser')}
              >
                <launchIcon.react tag="span" elementSize="small" />
              </button>
            </span>
          </li>
        ))}
      </ul>
    );
  }
}

export function createPreviewsSection(
  model: ContainerManagerModel,
  commands: CommandRegistry,
  absoluteUrl: (url: string) => string,
  translator: ITranslator = nullTranslator
): Panel {
  const trans = translator.load('jupyter_container_manager');
  return createSection(
    'jp-ContainerManager-previewsSection',
    trans.__('Previews'),
    new PreviewListView(model, commands, absoluteUrl, trans)
  );
}
