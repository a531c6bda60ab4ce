/**
 * The "Containers" section: the list with live status and per-row actions.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  deleteIcon,
  folderIcon,
  notebookIcon,
  refreshIcon,
  runIcon,
  stopIcon,
  terminalIcon
} from '@jupyterlab/ui-components';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { errorText } from '../api';
import { ContainerManagerModel } from '../model';
import { IContainerInfo } from '../types';
import { CommandIDs } from './commandids';
import { createSection, IToolbarItem } from './section';

/** What a container is doing while an action runs, for people. */
function pendingLabel(
  trans: TranslationBundle,
  pending: 'start' | 'stop' | 'restart' | 'delete'
): string {
  switch (pending) {
    case 'start':
      return trans.__('starting…');
    case 'stop':
      return trans.__('stopping…');
    case 'restart':
      return trans.__('restarting…');
    default:
      return trans.__('deleting…');
  }
}

/** A container's status, for people. */
function statusLabel(
  trans: TranslationBundle,
  status: IContainerInfo['status']
): string {
  switch (status) {
    case 'creating':
      return trans.__('creating');
    case 'running':
      return trans.__('running');
    case 'stopped':
      return trans.__('stopped');
    case 'exited':
      return trans.__('exited');
    case 'error':
      return trans.__('error');
    case 'lost':
      return trans.__('lost');
    default:
      return trans.__('unknown');
  }
}

interface IRowProps {
  info: IContainerInfo;
  pending: 'start' | 'stop' | 'restart' | 'delete' | null;
  selected: boolean;
  /** Whether the row's controls are in the tab order (the selected row's are). */
  current: boolean;
  commands: CommandRegistry;
  trans: TranslationBundle;
  onSelect: (id: string) => void;
}

function ActionButton(props: {
  label: string;
  icon: typeof runIcon;
  onClick: () => void;
  disabled?: boolean;
  current: boolean;
}): JSX.Element {
  return (
    <button
      type="button"
      className="jp-ContainerManager-iconButton"
      title={props.label}
      aria-label={props.label}
      disabled={props.disabled}
      tabIndex={props.current ? 0 : -1}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
    >
      <props.icon.react tag="span" elementSize="small" />
    </button>
  );
}

/**
 * A container: a button that selects it (its name, status and image), then
 * its actions. Only the current row's controls are in the tab order; the
 * arrow keys move between rows (see ContainerListView).
 */
function ContainerRow(props: IRowProps): JSX.Element {
  const { info, commands, trans, current } = props;
  const running = info.status === 'running';
  const busy = info.status === 'creating' || props.pending !== null;
  const run = (id: string) => () => void commands.execute(id, { id: info.id });
  const status = props.pending
    ? pendingLabel(trans, props.pending)
    : statusLabel(trans, info.status);
  return (
    <li
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
      <button
        type="button"
        className="jp-ContainerManager-containerSelect"
        aria-pressed={props.selected}
        tabIndex={current ? 0 : -1}
        onClick={event => {
          event.stopPropagation();
          props.onSelect(info.id);
        }}
      >
        <span
          className={`jp-ContainerManager-status jp-ContainerManager-status-${info.status}`}
          aria-hidden="true"
          title={
            info.reason
              ? trans.__('%1: %2', statusLabel(trans, info.status), info.reason)
              : statusLabel(trans, info.status)
          }
        />
        <span className="jp-ContainerManager-containerText">
          <span className="jp-ContainerManager-containerName">{info.name}</span>
          <span className="jp-ContainerManager-containerMeta">
            {status} · {info.image}
          </span>
        </span>
      </button>
      <span
        className="jp-ContainerManager-actions"
        role="group"
        aria-label={trans.__('Actions on %1', info.name)}
      >
        {running ? (
          <ActionButton
            label={trans.__('Stop')}
            icon={stopIcon}
            disabled={busy}
            current={current}
            onClick={run(CommandIDs.stop)}
          />
        ) : (
          <ActionButton
            label={trans.__('Start')}
            icon={runIcon}
            disabled={busy}
            current={current}
            onClick={run(CommandIDs.start)}
          />
        )}
        <ActionButton
          label={trans.__('Restart')}
          icon={refreshIcon}
          disabled={busy}
          current={current}
          onClick={run(CommandIDs.restart)}
        />
        <ActionButton
          label={trans.__('Open Terminal')}
          icon={terminalIcon}
          disabled={!running}
          current={current}
          onClick={run(CommandIDs.openTerminal)}
        />
        <ActionButton
          label={trans.__('Open a Notebook in this Container')}
          icon={notebookIcon}
          disabled={!running}
          current={current}
          onClick={run(CommandIDs.openNotebook)}
        />
        <ActionButton
          label={trans.__('Browse Files')}
          icon={folderIcon}
          disabled={!running}
          current={current}
          onClick={run(CommandIDs.browseFiles)}
        />
        <ActionButton
          label={trans.__('Delete')}
          icon={deleteIcon}
          disabled={busy}
          current={current}
          onClick={run(CommandIDs.deleteContainer)}
        />
      </span>
    </li>
  );
}

class ContainerListView extends ReactWidget {
  constructor(
    private readonly _model: ContainerManagerModel,
    private readonly _commands: CommandRegistry,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-ContainerManager-containerList');
    _model.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    const model = this._model;
    const trans = this._trans;
    if (model.error && model.containers.length === 0) {
      return (
        <div className="jp-ContainerManager-error" role="alert">
          <p>{errorText(trans, model.error)}</p>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept"
            onClick={() => void this._commands.execute(CommandIDs.refresh)}
          >
            {trans.__('Retry')}
          </button>
        </div>
      );
    }
    if (!model.loaded) {
      return (
        <div className="jp-ContainerManager-empty">
          {trans.__('Loading containers…')}
        </div>
      );
    }
    if (model.containers.length === 0) {
      return (
        <div className="jp-ContainerManager-empty">
          <p>{trans.__('No containers yet.')}</p>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept"
            onClick={() => void this._commands.execute(CommandIDs.create)}
          >
            {trans.__('New Container')}
          </button>
        </div>
      );
    }
    const currentId =
      model.selectedId && model.find(model.selectedId)
        ? model.selectedId
        : model.containers[0].id;
    return (
      <ul
        aria-label={trans.__('Containers')}
        className="jp-ContainerManager-list"
        onKeyDown={event => this._onKeyDown(event, currentId)}
      >
        {model.containers.map(info => (
          <ContainerRow
            key={info.id}
            info={info}
            pending={model.pendingAction(info.id)}
            selected={info.id === model.selectedId}
            current={info.id === currentId}
            commands={this._commands}
            trans={trans}
            onSelect={id => model.select(id)}
          />
        ))}
      </ul>
    );
  }

  /**
   * The keyboard on the list: Up and Down (Home, End) select the previous or
   * next container and move the focus to it; Delete deletes the selected one
   * (after a confirmation). Tab reaches the selected container's actions.
   */
  private _onKeyDown(event: React.KeyboardEvent, currentId: string): void {
    const model = this._model;
    const ids = model.containers.map(c => c.id);
    const index = ids.indexOf(currentId);
    let next: number | null = null;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(index + 1, ids.length - 1);
        break;
      case 'ArrowUp':
        next = Math.max(index - 1, 0);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = ids.length - 1;
        break;
      case 'Delete':
        event.preventDefault();
        void this._commands.execute(CommandIDs.deleteContainer, {
          id: currentId
        });
        return;
      default:
        return;
    }
    event.preventDefault();
    const id = ids[next];
    model.select(id);
    // Focus the row once it is drawn as the current one.
    requestAnimationFrame(() =>
      this.node
        .querySelector<HTMLElement>(
          `[data-container-id="${id}"] .jp-ContainerManager-containerSelect`
        )
        ?.focus()
    );
  }
}

/** The section: toolbar (new, refresh) and the list. */
export function createContainersSection(
  model: ContainerManagerModel,
  commands: CommandRegistry,
  toolbarItems: IToolbarItem[],
  translator: ITranslator = nullTranslator
): Panel {
  const trans = translator.load('jupyter_container_manager');
  return createSection(
    'jp-ContainerManager-containers',
    trans.__('Containers'),
    new ContainerListView(model, commands, trans),
    toolbarItems
  );
}
