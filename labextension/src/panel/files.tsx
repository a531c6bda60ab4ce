/**
 * The "Files" section: the workdir tree of the selected container, with
 * drag-and-drop upload and an upload progress bar.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  PanelWithToolbar,
  caretDownIcon,
  caretRightIcon,
  closeIcon,
  fileIcon,
  folderIcon,
  linkIcon
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Panel, Widget } from '@lumino/widgets';
import React from 'react';

import { ITreeRow } from '../fstree';
import { dirname } from '../webcontainer/paths';
import { filesFromDataTransfer, IUploadProgress } from '../upload';
import { CommandIDs } from './commandids';
import { ExplorerController } from './explorer';

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
  progress: IUploadProgress;
  onCancel: () => void;
  onDismiss: () => void;
}): JSX.Element | null {
  const { progress } = props;
  const busy = progress.active + progress.queued > 0;
  const percent = Math.round(progress.fraction * 100);
  const label = busy
    ? `Uploading ${progress.active + progress.queued} file(s): ${formatBytes(
        progress.loaded
      )} of ${formatBytes(progress.total)}`
    : `Uploaded ${progress.done} file(s)` +
      (progress.failed ? `, ${progress.failed} failed` : '');
  return (
    <div className="jp-ContainerManager-upload" aria-live="polite">
      <div className="jp-ContainerManager-uploadLabel">
        <span>{label}</span>
        <button
          type="button"
          className="jp-ContainerManager-iconButton"
          title={busy ? 'Cancel uploads' : 'Dismiss'}
          aria-label={busy ? 'Cancel uploads' : 'Dismiss'}
          onClick={busy ? props.onCancel : props.onDismiss}
        >
          <closeIcon.react tag="span" elementSize="small" />
        </button>
      </div>
      <progress
        className="jp-ContainerManager-progress"
        max={100}
        value={percent}
        aria-label="Upload progress"
      />
    </div>
  );
}

class FileTreeView extends ReactWidget {
  constructor(
    private readonly _controller: ExplorerController,
    private readonly _commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-ContainerManager-files');
    _controller.changed.connect(() => this.update(), this);
  }

  render(): JSX.Element {
    const controller = this._controller;
    const target = controller.target;
    if (!target) {
      return (
        <div className="jp-ContainerManager-empty">
          Select a running container to see its files.
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
        onKeyDown={event => this._onKeyDown(event)}
        tabIndex={0}
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
            Connection lost: reconnecting… (changes show once it is back)
          </div>
        ) : null}
        {!loaded ? (
          <div className="jp-ContainerManager-empty">Loading…</div>
        ) : rows.length === 0 ? (
          <div className="jp-ContainerManager-empty">
            Empty. Create a file or drop files here.
          </div>
        ) : null}
        <ul role="tree" aria-label="Files" className="jp-ContainerManager-tree">
          {rows.map(row => this._renderRow(row))}
        </ul>
        {controller.uploads.items.length > 0 ? (
          <UploadBar
            progress={progress}
            onCancel={() => controller.uploads.cancelAll()}
            onDismiss={() => controller.uploads.clearFinished()}
          />
        ) : null}
      </div>
    );
  }

  private _renderRow(row: ITreeRow): JSX.Element {
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

  private _onKeyDown(event: React.KeyboardEvent): void {
    const path = this._controller.selectedPath;
    if (!path) {
      return;
    }
    if (event.key === 'Delete') {
      event.preventDefault();
      void this._commands.execute(CommandIDs.deletePath, { path });
    } else if (event.key === 'F2') {
      event.preventDefault();
      void this._commands.execute(CommandIDs.rename, { path });
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const node = this._controller.tree?.get(path);
      if (node?.type === 'directory') {
        void this._controller.toggle(path);
      } else {
        void this._commands.execute(CommandIDs.openFile, { path });
      }
    }
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
  toolbarItems: { name: string; widget: Widget }[]
): Panel {
  const section = new PanelWithToolbar();
  section.id = 'jp-ContainerManager-filesSection';
  section.title.label = 'Files';
  section.addClass('jp-ContainerManager-section');
  for (const item of toolbarItems) {
    section.toolbar.addItem(item.name, item.widget);
  }
  section.addWidget(new FileTreeView(controller, commands));
  return section;
}
