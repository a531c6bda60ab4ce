/**
 * File system shapes of the public contract (shared/API.md) that the browser
 * client and the JupyterLab panel share: FileSystemTree as in @webcontainer/api,
 * directory entries, file change pushes.
 */
import type { IFsChangeData } from './protocol.generated';

/**
 * A file leaf of a FileSystemTree, as in @webcontainer/api: text, or bytes
 * (a Uint8Array; on the wire, base64 with `encoding: 'base64'`).
 */
export interface IFileNode {
  file: { contents: string | Uint8Array; encoding?: 'utf-8' | 'base64' };
}

/** A directory of a FileSystemTree. */
export interface IDirectoryNode {
  directory: FileSystemTree;
}

/** WebContainer's FileSystemTree. */
// eslint-disable-next-line @typescript-eslint/naming-convention -- named as in @webcontainer/api, which this client is a drop-in for
export interface FileSystemTree {
  [name: string]: IFileNode | IDirectoryNode;
}

/** Kinds of entries answered by readdir with file types. */
export type EntryType = 'file' | 'directory' | 'symlink';

/** One entry of `readdir?withFileTypes=true`. */
export interface IDirEntry {
  name: string;
  type: EntryType;
}

/** Payload of an `fs-change` push (generated from the protocol table). */
export type IFsChange = IFsChangeData;

/** Kinds of `fs-change` pushes. */
export type FsChangeKind = IFsChangeData['kind'];
