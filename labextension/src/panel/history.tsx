/**
 * The "History" section: Snapshot, Fork and Checkpoint on the selected
 * container, and its checkpoint timeline (newest first), each checkpoint with
 * the files it recorded; restore all of it or one file.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { ContainerClient } from '../client';
import { formatBytes } from '../metrics';
import { ContainerManagerModel } from '../model';
import { ICheckpointInfo } from '../types';
import { CommandIDs } from './commandids';
import { NoContainerNote } from './nocontainer';
import { createSection } from './section';

class HistoryView extends ReactWidget {
  constructor(
    private readonly _model: ContainerManagerModel,
    private readonly _client: ContainerClient,
    private readonly _commands: CommandRegistry,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-ContainerManager-history');
    _model.changed.connect(this._follow, this);
    this._follow();
  }

  /** Load the checkpoints of the selected running container, when it changes. */
  private _follow(): void {
    const selected = this._model.selected;
    const id = selected && selected.status === 'running' ? selected.id : null;
    if (id !== this._containerId) {
      this._containerId = id;
      this._checkpoints = [];
      this._error = '';
      if (id) {
        void this._load();
      }
    }
    this.update();
  }

  private async _load(): Promise<void> {
    const id = this._containerId;
    if (!id) {
      return;
    }
    try {
      const checkpoints = await this._client.listCheckpoints(id);
      if (id === this._containerId) {
        this._checkpoints = [...checkpoints].sort((a, b) =>
          b.created.localeCompare(a.created)
        );
        this._error = '';
      }
    } catch (error) {
      if (id === this._containerId) {
        this._error = (error as Error).message;
      }
    }
    this.update();
  }

  private async _run(command: string, args: object = {}): Promise<void> {
    const id = this._containerId;
    if (!id) {
      return;
    }
    await this._commands.execute(command, { id, ...args });
    await this._load();
  }

  render(): JSX.Element {
    const trans = this._trans;
    const selected = this._model.selected;
    if (!selected || !this._containerId) {
      return <NoContainerNote trans={trans} selected={selected} />;
    }
    const button = (label: string, caption: string, command: string) => (
      <button
        type="button"
        className="jp-ContainerManager-historyButton"
        title={caption}
        onClick={() => void this._run(command)}
      >
        {label}
      </button>
    );
    return (
      <div data-container-id={selected.id}>
        <div
          className="jp-ContainerManager-historyActions"
          role="group"
          aria-label={trans.__('History of %1', selected.name)}
        >
          {button(
            trans.__('Snapshot…'),
            trans.__("Save the container's whole file system as a snapshot"),
            CommandIDs.snapshot
          )}
          {button(
            trans.__('Fork…'),
            trans.__('Start copies of the container, files and all'),
            CommandIDs.fork
          )}
          {button(
            trans.__('Checkpoint'),
            trans.__('Record the files that changed since the last checkpoint'),
            CommandIDs.checkpoint
          )}
        </div>
        {this._error ? (
          <div className="jp-ContainerManager-error">{this._error}</div>
        ) : null}
        {this._checkpoints.length === 0 ? (
          <div className="jp-ContainerManager-empty">
            {trans.__(
              'No checkpoints yet: a checkpoint records the files that changed, to bring them back later.'
            )}
          </div>
        ) : (
          <ol
            className="jp-ContainerManager-timeline"
            aria-label={trans.__('Checkpoints')}
          >
            {this._checkpoints.map(cp => this._renderCheckpoint(cp))}
          </ol>
        )}
      </div>
    );
  }

  private _renderCheckpoint(cp: ICheckpointInfo): JSX.Element {
    const trans = this._trans;
    const when = new Date(cp.created).toLocaleTimeString();
    return (
      <li
        key={cp.id}
        className="jp-ContainerManager-checkpoint"
        data-checkpoint-id={cp.id}
      >
        <div className="jp-ContainerManager-checkpointHead">
          <span
            className="jp-ContainerManager-checkpointTime"
            title={cp.created}
          >
            {when}
          </span>
          <span className="jp-ContainerManager-checkpointMeta">
            {trans._n('%1 file', '%1 files', cp.files.length)} ·{' '}
            {formatBytes(cp.size)}
          </span>
          <button
            type="button"
            className="jp-ContainerManager-historyButton"
            aria-label={trans.__(
              'Restore all files from the checkpoint of %1',
              when
            )}
            onClick={() =>
              void this._run(CommandIDs.restoreCheckpoint, {
                checkpoint: cp.id
              })
            }
          >
            {trans.__('Restore All')}
          </button>
        </div>
        <ul className="jp-ContainerManager-checkpointFiles">
          {cp.files.map(file => (
            <li key={file.path} data-path={file.path}>
              <span
                className="jp-ContainerManager-checkpointChange"
                title={file.change}
              >
                {file.change}
              </span>
              <span className="jp-ContainerManager-checkpointPath">
                {file.path}
              </span>
              <button
                type="button"
                className="jp-ContainerManager-linkButton"
                aria-label={trans.__(
                  'Restore %1 from the checkpoint of %2',
                  file.path,
                  when
                )}
                onClick={() =>
                  void this._run(CommandIDs.restoreCheckpoint, {
                    checkpoint: cp.id,
                    paths: [file.path]
                  })
                }
              >
                {trans.__('Restore')}
              </button>
            </li>
          ))}
        </ul>
      </li>
    );
  }

  private _containerId: string | null = null;
  private _checkpoints: ICheckpointInfo[] = [];
  private _error = '';
}

/** The section: snapshots, forks and checkpoints of the selected container. */
export function createHistorySection(
  model: ContainerManagerModel,
  client: ContainerClient,
  commands: CommandRegistry,
  translator: ITranslator = nullTranslator
): Panel {
  const trans = translator.load('jupyter_container_manager');
  return createSection(
    'jp-ContainerManager-historySection',
    trans.__('History'),
    new HistoryView(model, client, commands, trans)
  );
}
