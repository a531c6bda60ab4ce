/**
 * The "Previews" section: ports listening in the selected container, each a
 * link to its preview through the proxy.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  PanelWithToolbar,
  launchIcon,
  tabIcon
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { ContainerManagerModel } from '../model';
import { CommandIDs } from './commandids';

class PreviewListView extends ReactWidget {
  constructor(
    private readonly _model: ContainerManagerModel,
    private readonly _commands: CommandRegistry,
    private readonly _absoluteUrl: (url: string) => string
  ) {
    super();
    this.addClass('jp-ContainerManager-previews');
    _model.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    const selected = this._model.selected;
    if (!selected) {
      return (
        <div className="jp-ContainerManager-empty">No container selected.</div>
      );
    }
    const ports = this._model.ports(selected.id).filter(p => p.url);
    if (ports.length === 0) {
      return (
        <div className="jp-ContainerManager-empty">
          No server is listening yet. Start one in a terminal, e.g.{' '}
          <code>node server.js</code>: its port shows here with a preview link.
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
      <ul className="jp-ContainerManager-portList" aria-label="Previews">
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
              Port {port}
            </a>
            <span className="jp-ContainerManager-actions">
              <button
                type="button"
                className="jp-ContainerManager-iconButton"
                title={`Open port ${port} in a JupyterLab tab`}
                aria-label={`Open port ${port} in a JupyterLab tab`}
                onClick={() => open(port, url, 'tab')}
              >
                <tabIcon.react tag="span" elementSize="small" />
              </button>
              <button
                type="button"
                className="jp-ContainerManager-iconButton"
                title={`Open port ${port} in a new browser tab`}
                aria-label={`Open port ${port} in a new browser tab`}
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
  absoluteUrl: (url: string) => string
): Panel {
  const section = new PanelWithToolbar();
  section.id = 'jp-ContainerManager-previewsSection';
  section.title.label = 'Previews';
  section.addClass('jp-ContainerManager-section');
  section.addWidget(new PreviewListView(model, commands, absoluteUrl));
  return section;
}
