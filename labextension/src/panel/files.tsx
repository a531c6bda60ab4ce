/**
 * The "Files" section: the workdir tree of the selected container, with
 * drag-and-drop upload and an upload progress bar.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  caretDownIcon,
  caretRightIcon,
  closeIcon,
  fileIcon,
  folderIcon,
  linkIcon
} from '@jupyterlab/ui-components';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { ITreeRow } from '../fstree';
import { dirname } from '../webcontainer/paths';
import { filesFromDataTransfer, IUploadProgress } from '../upload';
import { CommandIDs } from './commandids';
import { ExplorerController } from './explorer';
import { createSection, IToolbarItem } from './section';

/** Format a byte count for people. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function UploadBar(props: {
  trans: TranslationBundle;
  progress: IUploadProgress;
  onCancel: () => void;
  onDismiss: () => void;
}): JSX.Element | null {
  const { progress, trans } = props;
  const busy = progress.active + progress.queued > 0;
  const percent = Math.round(progress.fraction * 100);
  const label = busy
    ? trans._n(
        'Uploading %1 file: %2 of %3',
        'Uploading %1 files: %2 of %3',
        progress.active + progress.queued,
        formatBytes(progress.loaded),
        formatBytes(progress.total)
      )
    : trans._n('Uploaded %1 file', 'Uploaded %1 files', progress.done) +
      (progress.failed ? trans.__(', %1 failed', progress.failed) : '');
  const dismiss = busy ? trans.__('Cancel uploads') : trans.__('Dismiss');
  return (
    <div className="jp-ContainerManager-upload" aria-live="polite">
      <div className="jp-ContainerManager-uploadLabel">
        <span>{label}</span>
        <button
          type="button"
          className="jp-ContainerManager-iconButton"
          title={dismiss}
          aria-label={dismiss}
          onClick={busy ? props.onCancel : props.onDismiss}
        >
          <closeIcon.react tag="span" elementSize="small" />
        </button>
      </div>
      <progress
        className="jp-ContainerManager-progress"
        max={100}
        value={percent}
        aria-label={trans.__('Upload progress')}
      />
    </div>
  );
}

class FileTreeView extends ReactWidget {
  constructor(
    private readonly _controller: ExplorerController,
    private readonly _commands: CommandRegistry,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-ContainerManager-files');
    _controller.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    const controller = this._controller;
    const trans = this._trans;
    const target = controller.target;
    if (!target) {
      return (
        <div className="jp-ContainerManager-empty">
          {trans.__('Select a running container to see its files.')}
        </div>
      );
    }
    if (controller.error) {
      return (
        <div className="jp-ContainerManager-error" role="alert">
          {controller.error}
        </div>
      );
    }
    const tree = controller.tree!;
    const rows = tree.rows();
    const active = rows.findIndex(r => r.path === controller.selectedPath);
    const loaded = tree.isLoaded('/');
    const progress = controller.uploads.progress;
    return (
      <div
        className={
          'jp-ContainerManager-treeBox' +
          (this._dropTarget !== null ? ' jp-mod-dropTarget' : '')
        }
        onDragOver={event => this._onDragOver(event, '/')}
        onDragLeave={() => this._setDropTarget(null)}
        onDrop={event => void this._onDrop(event, '/')}
        data-container-id={target.id}
      >
        <div
          className="jp-ContainerManager-treeRoot"
          title={`${target.name}: ${target.workdir}`}
        >
          {target.name}:{target.workdir}
        </div>
        {controller.reconnecting ? (
          <div className="jp-ContainerManager-notice" role="status">
            {trans.__(
              'Connection lost: reconnecting… (changes show once it is back)'
            )}
          </div>
        ) : null}
        {!loaded ? (
          <div className="jp-ContainerManager-empty">
            {trans.__('Loading…')}
          </div>
        ) : rows.length === 0 ? (
          <div className="jp-ContainerManager-empty">
            {trans.__('Empty. Create a file or drop files here.')}
          </div>
        ) : null}
        {rows.length > 0 ? (
          <ul
            role="tree"
            aria-label={trans.__('Files of %1', target.name)}
            aria-activedescendant={
              active >= 0 ? this._rowId(target.id, active) : undefined
            }
            className="jp-ContainerManager-tree"
            tabIndex={0}
            onKeyDown={event => this._onKeyDown(event, rows)}
          >
            {rows.map((row, index) => this._renderRow(row, index, target.id))}
          </ul>
        ) : null}
        {controller.uploads.items.length > 0 ? (
          <UploadBar
            trans={trans}
            progress={progress}
            onCancel={() => controller.uploads.cancelAll()}
            onDismiss={() => controller.uploads.clearFinished()}
          />
        ) : null}
      </div>
    );
  }

  /** The DOM id of a row (the tree's active descendant when selected). */
  private _rowId(containerId: string, index: number): string {
    return `jp-ContainerManager-tree-${containerId}-${index}`;
  }

  private _renderRow(
    row: ITreeRow,
    index: number,
    containerId: string
  ): JSX.Element {
    const controller = this._controller;
    const isDir = row.type === 'directory';
    const selected = controller.selectedPath === row.path;
    const Caret = row.expanded ? caretDownIcon : caretRightIcon;
    const Icon = isDir
      ? folderIcon
      : row.type === 'symlink'
        ? linkIcon
        : fileIcon;
    const dropDir = isDir ? row.path : dirname(row.path);
    return (
      <li
        key={row.path}
        id={this._rowId(containerId, index)}
        role="treeitem"
        aria-level={row.depth + 1}
        aria-selected={selected}
        aria-expanded={isDir ? row.expanded : undefined}
        className={
          'jp-ContainerManager-treeRow' +
          (selected ? ' jp-mod-selected' : '') +
          (this._dropTarget === dropDir && isDir ? ' jp-mod-dropTarget' : '')
        }
        data-path={row.path}
        data-type={row.type}
        style={{ paddingLeft: `${8 + row.depth * 14}px` }}
        title={row.path}
        onClick={() => {
          controller.select(row.path);
          if (isDir) {
            void controller.toggle(row.path);
          }
        }}
        onContextMenu={() => controller.select(row.path)}
        onDoubleClick={() => {
          if (!isDir) {
            void this._commands.execute(CommandIDs.openFile, {
              path: row.path
            });
          }
        }}
        onDragOver={event => this._onDragOver(event, dropDir)}
        onDrop={event => void this._onDrop(event, dropDir)}
      >
        {isDir ? (
          <Caret.react
            tag="span"
            elementSize="small"
            className="jp-ContainerManager-caret"
          />
        ) : (
          <span className="jp-ContainerManager-caret" />
        )}
        <Icon.react
          tag="span"
          elementSize="small"
          className="jp-ContainerManager-fileIcon"
        />
        <span className="jp-ContainerManager-fileName">{row.name}</span>
        {row.loading ? (
          <span className="jp-ContainerManager-loading">…</span>
        ) : null}
      </li>
    );
  }

  /**
   * The keyboard on the tree (the focus stays on it; the selected row is its
   * active descendant): Up and Down (Home, End) move the selection, Right
   * opens a folder or goes to its first entry, Left closes it or goes to the
   * parent folder, Enter opens a file or toggles a folder, F2 renames,
   * Delete deletes (after a confirmation).
   */
  private _onKeyDown(event: React.KeyboardEvent, rows: ITreeRow[]): void {
    const controller = this._controller;
    const path = controller.selectedPath;
    const index = rows.findIndex(r => r.path === path);
    const row = index >= 0 ? rows[index] : null;
    const selectAt = (i: number) => {
      const target = rows[Math.max(0, Math.min(i, rows.length - 1))];
      if (target) {
        controller.select(target.path);
        requestAnimationFrame(() =>
          this.node
            .querySelector(`[data-path="${CSS.escape(target.path)}"]`)
            ?.scrollIntoView({ block: 'nearest' })
        );
      }
    };
    const isDir = row?.type === 'directory';
    switch (event.key) {
      case 'ArrowDown':
        selectAt(index + 1);
        break;
      case 'ArrowUp':
        selectAt(index < 0 ? 0 : index - 1);
        break;
      case 'Home':
        selectAt(0);
        break;
      case 'End':
        selectAt(rows.length - 1);
        break;
      case 'ArrowRight':
        if (row && isDir && !row.expanded) {
          void controller.toggle(row.path);
        } else if (row && isDir) {
          selectAt(index + 1);
        }
        break;
      case 'ArrowLeft':
        if (row && isDir && row.expanded) {
          void controller.toggle(row.path);
        } else if (row) {
          const parent = rows.findIndex(r => r.path === dirname(row.path));
          if (parent >= 0) {
            selectAt(parent);
          }
        }
        break;
      case 'Enter':
        if (!row) {
          return;
        }
        if (isDir) {
          void controller.toggle(row.path);
        } else {
          void this._commands.execute(CommandIDs.openFile, { path: row.path });
        }
        break;
      case 'Delete':
        if (!row) {
          return;
        }
        void this._commands.execute(CommandIDs.deletePath, { path: row.path });
        break;
      case 'F2':
        if (!row) {
          return;
        }
        void this._commands.execute(CommandIDs.rename, { path: row.path });
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  private _onDragOver(event: React.DragEvent, dir: string): void {
    if (!Array.from(event.dataTransfer.types).includes('Files')) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.dataTransfer.dropEffect = 'copy';
    this._setDropTarget(dir);
  }

  private async _onDrop(event: React.DragEvent, dir: string): Promise<void> {
    if (!Array.from(event.dataTransfer.types).includes('Files')) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    this._setDropTarget(null);
    const files = await filesFromDataTransfer(event.dataTransfer);
    await this._commands.execute(CommandIDs.upload, {
      directory: dir,
      // Files cannot travel as JSON arguments: hand them over directly.
      dropId: stashDroppedFiles(files)
    });
  }

  private _setDropTarget(dir: string | null): void {
    if (this._dropTarget !== dir) {
      this._dropTarget = dir;
      this.update();
    }
  }

  private _dropTarget: string | null = null;
}

const dropped = new Map<number, unknown>();
let nextDrop = 0;

/** Keep dropped files until the upload command takes them. */
export function stashDroppedFiles(files: unknown): number {
  const id = ++nextDrop;
  dropped.set(id, files);
  return id;
}

/** Take files stashed by a drop. */
export function takeDroppedFiles<T>(id: number): T | undefined {
  const files = dropped.get(id) as T | undefined;
  dropped.delete(id);
  return files;
}

/** The section: toolbar (new file, new folder, upload, refresh) and the tree. */
export function createFilesSection(
  controller: ExplorerController,
  commands: CommandRegistry,
  toolbarItems: IToolbarItem[],
  translator: ITranslator = nullTranslator
): Panel {
  const trans = translator.load('jupyter_container_manager');
  return createSection(
    'jp-ContainerManager-filesSection',
    trans.__('Files'),
    new FileTreeView(controller, commands, trans),
    toolbarItems
  );
}
