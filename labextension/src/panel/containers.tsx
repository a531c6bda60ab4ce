/**
 * The "Containers" section: the list with live status and per-row actions.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  PanelWithToolbar,
  deleteIcon,
  folderIcon,
  refreshIcon,
  runIcon,
  stopIcon,
  terminalIcon
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { ContainerManagerModel } from '../model';
import { IContainerInfo } from '../types';
import { CommandIDs } from './commandids';

const PENDING_LABEL = {
  start: 'starting…',
  stop: 'stopping…',
  restart: 'restarting…',
  delete: 'deleting…'
};

interface IRowProps {
  info: IContainerInfo;
  pending: 'start' | 'stop' | 'restart' | 'delete' | null;
  selected: boolean;
  commands: CommandRegistry;
  onSelect: (id: string) => void;
}

function ActionButton(props: {
  label: string;
  icon: typeof runIcon;
  onClick: () => void;
  disabled?: boolean;
}): JSX.Element {
  return (
    <button
      type="button"
      className="jp-ContainerManager-iconButton"
      title={props.label}
      aria-label={props.label}
      disabled={props.disabled}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
    >
      <props.icon.react tag="span" elementSize="small" />
    </button>
  );
}

function ContainerRow(props: IRowProps): JSX.Element {
  const { info, commands } = props;
  const running = info.status === 'running';
  const busy = info.status === 'creating' || props.pending !== null;
  const run = (id: string) => () => void commands.execute(id, { id: info.id });
  return (
    <li
      role="option"
      aria-selected={props.selected}
      className={
        'jp-ContainerManager-container' +
        (props.selected ? ' jp-mod-selected' : '')
      }
      data-container-id={info.id}
      data-status={info.status}
      data-pending={props.pending ?? undefined}
      title={`${info.name}\n${info.image}\n${info.id}`}
      onClick={() => props.onSelect(info.id)}
      onDoubleClick={run(CommandIDs.openTerminal)}
    >
      <span
        className={`jp-ContainerManager-status jp-ContainerManager-status-${info.status}`}
        aria-label={`status: ${info.status}`}
        title={info.status}
      />
      <span className="jp-ContainerManager-containerText">
        <span className="jp-ContainerManager-containerName">{info.name}</span>
        <span className="jp-ContainerManager-containerMeta">
          {props.pending ? PENDING_LABEL[props.pending] : info.status} ·{' '}
          {info.image}
        </span>
      </span>
      <span className="jp-ContainerManager-actions">
        {running ? (
          <ActionButton
            label="Stop"
            icon={stopIcon}
            disabled={busy}
            onClick={run(CommandIDs.stop)}
          />
        ) : (
          <ActionButton
            label="Start"
            icon={runIcon}
            disabled={busy}
            onClick={run(CommandIDs.start)}
          />
        )}
        <ActionButton
          label="Restart"
          icon={refreshIcon}
          disabled={busy}
          onClick={run(CommandIDs.restart)}
        />
        <ActionButton
          label="Open Terminal"
          icon={terminalIcon}
          disabled={!running}
          onClick={run(CommandIDs.openTerminal)}
        />
        <ActionButton
          label="Browse Files"
          icon={folderIcon}
          disabled={!running}
          onClick={run(CommandIDs.browseFiles)}
        />
        <ActionButton
          label="Delete"
          icon={deleteIcon}
          disabled={busy}
          onClick={run(CommandIDs.deleteContainer)}
        />
      </span>
    </li>
  );
}

class ContainerListView extends ReactWidget {
  constructor(
    private readonly _model: ContainerManagerModel,
    private readonly _commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-ContainerManager-containerList');
    _model.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    const model = this._model;
    if (model.error && model.containers.length === 0) {
      return (
        <div className="jp-ContainerManager-error" role="alert">
          <p>{model.error.message}</p>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept"
            onClick={() => void this._commands.execute(CommandIDs.refresh)}
          >
            Retry
          </button>
        </div>
      );
    }
    if (!model.loaded) {
      return (
        <div className="jp-ContainerManager-empty">Loading containers…</div>
      );
    }
    if (model.containers.length === 0) {
      return (
        <div className="jp-ContainerManager-empty">
          <p>No containers yet.</p>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept"
            onClick={() => void this._commands.execute(CommandIDs.create)}
          >
            New Container
          </button>
        </div>
      );
    }
    return (
      <ul
        role="listbox"
        aria-label="Containers"
        className="jp-ContainerManager-list"
      >
        {model.containers.map(info => (
          <ContainerRow
            key={info.id}
            info={info}
            pending={model.pendingAction(info.id)}
            selected={info.id === model.selectedId}
            commands={this._commands}
            onSelect={id => model.select(id)}
          />
        ))}
      </ul>
    );
  }
}

/** The section: toolbar (new, refresh) and the list. */
export function createContainersSection(
  model: ContainerManagerModel,
  commands: CommandRegistry,
  toolbarItems: { name: string; widget: import('@lumino/widgets').Widget }[]
): Panel {
  const section = new PanelWithToolbar();
  section.id = 'jp-ContainerManager-containers';
  section.title.label = 'Containers';
  section.addClass('jp-ContainerManager-section');
  for (const item of toolbarItems) {
    section.toolbar.addItem(item.name, item.widget);
  }
  section.addWidget(new ContainerListView(model, commands));
  return section;
}
