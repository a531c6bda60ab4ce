/**
 * The file explorer's controller for one container at a time: lists
 * directories, follows `fs-change` pushes (watch re-sent after every
 * reconnect), keeps the selection, and runs uploads with progress.
 */
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage } from '../api';
import { ContainerClient } from '../client';
import { FileTreeModel } from '../fstree';
import { dirname, normalize } from '../webcontainer/paths';
import { ClientEvent, ContainerSocket, ServerEvent } from '../socket';
import { SocketPool } from '../sockets';
import { IDirEntry, IFsChange } from '../types';
import {
  IDroppedFile,
  IUploadItem,
  UploadQueue,
  UploadSender,
  planUpload,
  uploadHeaders,
  xhrPut
} from '../upload';

export interface IExplorerTarget {
  id: string;
  name: string;
  workdir: string;
}

export class ExplorerController implements IDisposable {
  /**
   * @param send how one file is sent; by default a PUT with XMLHttpRequest
   *   (upload progress) to the raw-bytes writeFile route
   */
  constructor(
    readonly client: ContainerClient,
    readonly sockets: SocketPool,
    send?: UploadSender
  ) {
    this.uploads = new UploadQueue(
      send ??
        ((request, onProgress, signal) => {
          const containerId =
            this._uploadTargets.get(request) ?? this._target?.id;
          if (!containerId) {
            return Promise.reject(new Error('No container selected'));
          }
          const settings: ServerConnection.ISettings = this.client.settings;
          return xhrPut(
            this.client.writeUrl(containerId, request.path),
            request.file,
            uploadHeaders(
              settings.token,
              typeof document !== 'undefined' ? document.cookie : ''
            ),
            onProgress,
            signal
          );
        }),
      2
    );
    this.uploads.changed.connect(() => this._changed.emit());
  }

  readonly uploads: UploadQueue;

  /** Emitted when the tree, the selection, the target or an upload changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with errors of background work (listings, watch). */
  get failed(): ISignal<this, Error> {
    return this._failed;
  }

  get target(): IExplorerTarget | null {
    return this._target;
  }

  get tree(): FileTreeModel | null {
    return this._tree;
  }

  get selectedPath(): string | null {
    return this._selectedPath;
  }

  /** Was the shown container's socket connected, and is it trying to come back? */
  get reconnecting(): boolean {
    const socket = this._socket;
    return !!socket && socket.joined !== null && socket.status !== 'open';
  }

  /** An error that prevents showing the tree (e.g. the container is stopped). */
  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The directory new files and uploads go to: the selection's. */
  get currentDirectory(): string {
    const selected = this._selectedPath;
    if (!selected || !this._tree) {
      return '/';
    }
    const node = this._tree.get(selected);
    return node?.type === 'directory' ? node.path : dirname(selected);
  }

  /** Show another container (or none). */
  setTarget(target: IExplorerTarget | null): void {
    if (
      target?.id === this._target?.id &&
      target?.workdir === this._target?.workdir
    ) {
      return;
    }
    this._detach();
    this._target = target;
    this._selectedPath = null;
    this._error = null;
    if (!target) {
      this._tree = null;
      this._changed.emit();
      return;
    }
    let tree = this._trees.get(target.id);
    if (!tree) {
      tree = new FileTreeModel(target.workdir || '/workspace');
      this._trees.set(target.id, tree);
    }
    this._tree = tree;
    tree.changed.connect(this._onTreeChanged, this);
    const socket = this.sockets.get(target.id);
    this._socket = socket;
    socket.statusChanged.connect(this._onStatus, this);
    this._subscriptions.push(
      socket.on(ServerEvent.FsChange, (data: IFsChange) => {
        if (typeof data?.path === 'string') {
          tree!.applyChange(data);
        }
      }),
      {
        dispose: () => socket.statusChanged.disconnect(this._onStatus, this),
        isDisposed: false
      },
      socket.onJoined(() => {
        // Watch on every (re)join; listings may be stale after a reconnect.
        void this._watch(socket);
        void this.reload();
      })
    );
    if (socket.joined && socket.status === 'open') {
      void this._watch(socket);
    }
    void this.reload();
    this._changed.emit();
  }

  /** Forget a deleted container. */
  forget(containerId: string): void {
    this._trees.delete(containerId);
    if (this._target?.id === containerId) {
      this.setTarget(null);
    }
  }

  select(path: string | null): void {
    this._selectedPath = path === null ? null : normalize(path);
    this._changed.emit();
  }

  /** Expand or collapse a directory, listing it when needed. */
  async toggle(path: string): Promise<void> {
    const tree = this._tree;
    if (!tree) {
      return;
    }
    const expanded = tree.toggle(path);
    if (expanded && !tree.isLoaded(path)) {
      await this.list(path);
    }
  }

  /** Read one directory's listing into the tree. */
  async list(path: string): Promise<void> {
    const target = this._target;
    const tree = this._tree;
    if (!target || !tree) {
      return;
    }
    let entries: IDirEntry[];
    try {
      entries = await this.client.readdir(target.id, path);
    } catch (error) {
      if (this._target?.id !== target.id) {
        return;
      }
      if (normalize(path) === '/') {
        this._error = errorMessage(error);
        this._changed.emit();
      } else {
        this._failed.emit(error as Error);
      }
      return;
    }
    if (this._target?.id !== target.id) {
      return;
    }
    if (normalize(path) === '/') {
      this._error = null;
    }
    tree.setEntries(path, entries);
  }

  /** Read again every listed directory and the expanded ones. */
  async reload(): Promise<void> {
    const tree = this._tree;
    if (!tree) {
      return;
    }
    const dirs = new Set([
      '/',
      ...tree.loadedDirectories(),
      ...tree.pendingListings()
    ]);
    // Parents first, so removed directories are dropped before their children.
    const ordered = [...dirs].sort(
      (a, b) => a.split('/').length - b.split('/').length
    );
    for (const dir of ordered) {
      if (dir === '/' || tree.has(dir)) {
        await this.list(dir);
      }
    }
  }

  /** Upload files (with paths relative to `directory`) into the container. */
  async upload(
    directory: string,
    files: IDroppedFile[]
  ): Promise<IUploadItem[]> {
    const target = this._target;
    if (!target || files.length === 0) {
      return [];
    }
    const plan = planUpload(directory, files);
    for (const dir of plan.directories) {
      await this.client.mkdir(target.id, dir, true);
    }
    for (const request of plan.uploads) {
      this._uploadTargets.set(request, target.id);
    }
    const items = await this.uploads.add(plan.uploads);
    for (const request of plan.uploads) {
      this._uploadTargets.delete(request);
    }
    // The watch reports new files too; listing now covers a missed event.
    if (this._target?.id === target.id) {
      void this.list(normalize(directory));
    }
    return items;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._detach();
    this.uploads.cancelAll();
    Signal.clearData(this);
  }

  private async _watch(socket: ContainerSocket): Promise<void> {
    // One watch per connection: a watch lives as long as the server's socket.
    const joined = socket.joined;
    if (!joined || this._watched.get(socket) === joined) {
      return;
    }
    this._watched.set(socket, joined);
    try {
      await socket.request(ClientEvent.FsOperation, {
        type: 'watch',
        path: '/',
        recursive: true
      });
    } catch (error) {
      this._watched.delete(socket);
      if (socket === this._socket) {
        this._failed.emit(error as Error);
      }
    }
  }

  private _detach(): void {
    this._tree?.changed.disconnect(this._onTreeChanged, this);
    for (const subscription of this._subscriptions) {
      subscription.dispose();
    }
    this._subscriptions = [];
    this._socket = null;
  }

  private _onStatus(): void {
    this._changed.emit();
  }

  private _onTreeChanged(): void {
    if (
      this._selectedPath &&
      this._tree &&
      !this._tree.has(this._selectedPath)
    ) {
      this._selectedPath = null;
    }
    this._changed.emit();
  }

  private _target: IExplorerTarget | null = null;
  private _tree: FileTreeModel | null = null;
  private _trees = new Map<string, FileTreeModel>();
  private _socket: ContainerSocket | null = null;
  private _subscriptions: IDisposable[] = [];
  private _selectedPath: string | null = null;
  private _error: string | null = null;
  private _uploadTargets = new Map<object, string>();
  private _watched = new WeakMap<ContainerSocket, object>();
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _failed = new Signal<this, Error>(this);
}
