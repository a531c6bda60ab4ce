/**
 * The file explorer's model: a tree of a container's workdir built from
 * `readdir` listings and kept current by `fs-change` pushes. No DOM here.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  basename,
  dirname,
  fromServerPath,
  join,
  normalize
} from './webcontainer/paths';
import { EntryType, IDirEntry, IFsChange } from './types';

export interface ITreeNode {
  path: string;
  name: string;
  type: EntryType;
  /** Child paths of a directory once listed; null until then. */
  children: Set<string> | null;
}

/** One row of the flattened, visible tree. */
export interface ITreeRow {
  path: string;
  name: string;
  type: EntryType;
  depth: number;
  expanded: boolean;
  /** A directory that is expanded but not listed yet. */
  loading: boolean;
}

/** Order of entries: directories first, then by name, numbers naturally. */
export function compareEntries(
  a: { name: string; type: EntryType },
  b: { name: string; type: EntryType }
): number {
  const ad = a.type === 'directory' ? 0 : 1;
  const bd = b.type === 'directory' ? 0 : 1;
  if (ad !== bd) {
    return ad - bd;
  }
  const byName = a.name.localeCompare(b.name, undefined, {
    numeric: true,
    sensitivity: 'base'
  });
  return byName !== 0 ? byName : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export class FileTreeModel {
  /**
   * @param workdir the container's workdir, to turn absolute paths in pushes
   *   into workdir paths
   */
  constructor(readonly workdir: string = '/workspace') {
    this._nodes.set('/', {
      path: '/',
      name: '',
      type: 'directory',
      children: null
    });
    this._expanded.add('/');
  }

  /** Emitted after any change of the tree or of what is expanded. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with the workdir path of a file whose content changed. */
  get fileChanged(): ISignal<this, string> {
    return this._fileChanged;
  }

  get(path: string): ITreeNode | undefined {
    return this._nodes.get(normalize(path));
  }

  has(path: string): boolean {
    return this._nodes.has(normalize(path));
  }

  isExpanded(path: string): boolean {
    return this._expanded.has(normalize(path));
  }

  /** Is this directory listed? */
  isLoaded(path: string): boolean {
    return !!this._nodes.get(normalize(path))?.children;
  }

  /** Children of a listed directory, in display order. */
  children(path: string): ITreeNode[] {
    const node = this._nodes.get(normalize(path));
    if (!node?.children) {
      return [];
    }
    return [...node.children]
      .map(child => this._nodes.get(child)!)
      .filter(Boolean)
      .sort(compareEntries);
  }

  /**
   * Set the listing of a directory. Entries that disappeared are removed with
   * their subtrees; directories that stay keep their listing.
   */
  setEntries(dirPath: string, entries: IDirEntry[]): void {
    const dir = this._ensureDir(normalize(dirPath));
    const next = new Set<string>();
    for (const entry of entries) {
      const path = join(dir.path, entry.name);
      next.add(path);
      const existing = this._nodes.get(path);
      if (existing && existing.type !== entry.type) {
        this._remove(path);
      }
      if (!this._nodes.has(path)) {
        this._nodes.set(path, {
          path,
          name: entry.name,
          type: entry.type,
          children: null
        });
      }
    }
    for (const old of dir.children ?? []) {
      if (!next.has(old)) {
        this._remove(old);
      }
    }
    dir.children = next;
    this._changed.emit();
  }

  /**
   * Apply an `fs-change` push. Changes below directories that were never
   * listed are ignored: their listing will be read when they are expanded.
   *
   * @returns true when the tree changed
   */
  applyChange(change: IFsChange): boolean {
    const path = fromServerPath(change.path, this.workdir);
    if (path === '/') {
      return false;
    }
    switch (change.kind) {
      case 'add':
        return this._add(path, 'file');
      case 'addDir':
        return this._add(path, 'directory');
      case 'unlink':
      case 'unlinkDir': {
        if (!this._nodes.has(path)) {
          return false;
        }
        this._remove(path);
        this._changed.emit();
        return true;
      }
      case 'change':
        if (this._nodes.get(path)?.type === 'file') {
          this._fileChanged.emit(path);
        } else if (!this._nodes.has(path)) {
          return this._add(path, 'file');
        }
        return false;
      default:
        return false;
    }
  }

  /** Expand or collapse a directory. @returns whether it is now expanded */
  toggle(path: string): boolean {
    const norm = normalize(path);
    if (this._expanded.has(norm) && norm !== '/') {
      this._expanded.delete(norm);
    } else {
      this._expanded.add(norm);
    }
    this._changed.emit();
    return this._expanded.has(norm);
  }

  expand(path: string): void {
    const norm = normalize(path);
    if (!this._expanded.has(norm)) {
      this._expanded.add(norm);
      this._changed.emit();
    }
  }

  /** Collapse every directory but the root. */
  collapseAll(): void {
    this._expanded = new Set(['/']);
    this._changed.emit();
  }

  /** Expanded directories that are visible but not listed yet. */
  pendingListings(): string[] {
    return this.rows()
      .filter(row => row.loading)
      .map(row => row.path)
      .concat(this.isLoaded('/') ? [] : ['/']);
  }

  /** Listed directories, to read again after a reconnect. */
  loadedDirectories(): string[] {
    return [...this._nodes.values()]
      .filter(node => node.children !== null)
      .map(node => node.path)
      .sort();
  }

  /** The visible rows, depth-first in display order (the root not included). */
  rows(): ITreeRow[] {
    const rows: ITreeRow[] = [];
    const visit = (dirPath: string, depth: number) => {
      for (const node of this.children(dirPath)) {
        const isDir = node.type === 'directory';
        const expanded = isDir && this._expanded.has(node.path);
        rows.push({
          path: node.path,
          name: node.name,
          type: node.type,
          depth,
          expanded,
          loading: expanded && node.children === null
        });
        if (expanded) {
          visit(node.path, depth + 1);
        }
      }
    };
    visit('/', 0);
    return rows;
  }

  private _add(path: string, type: EntryType): boolean {
    const parentPath = dirname(path);
    const parent = this._nodes.get(parentPath);
    if (!parent) {
      // Create missing ancestors only below a listed directory.
      const grand = dirname(parentPath);
      if (parentPath === '/' || !this._nodes.get(grand)?.children) {
        return false;
      }
      const created = this._add(parentPath, 'directory');
      return this._add(path, type) || created;
    }
    if (parent.children === null) {
      return false;
    }
    const existing = this._nodes.get(path);
    if (existing) {
      if (existing.type === type) {
        return false;
      }
      this._remove(path);
    }
    this._nodes.set(path, { path, name: basename(path), type, children: null });
    parent.children.add(path);
    this._changed.emit();
    return true;
  }

  private _ensureDir(path: string): ITreeNode {
    let node = this._nodes.get(path);
    if (!node || node.type !== 'directory') {
      if (node) {
        this._remove(path);
      }
      node = { path, name: basename(path), type: 'directory', children: null };
      this._nodes.set(path, node);
      if (path !== '/') {
        const parent = this._ensureDir(dirname(path));
        parent.children?.add(path);
      }
    }
    return node;
  }

  private _remove(path: string): void {
    const node = this._nodes.get(path);
    if (!node || path === '/') {
      return;
    }
    for (const child of node.children ?? []) {
      this._remove(child);
    }
    this._nodes.delete(path);
    this._expanded.delete(path);
    this._nodes.get(dirname(path))?.children?.delete(path);
  }

  private _nodes = new Map<string, ITreeNode>();
  private _expanded = new Set<string>();
  private _changed = new Signal<this, void>(this);
  private _fileChanged = new Signal<this, string>(this);
}
