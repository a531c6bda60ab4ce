/**
 * Bytes in the browser client: base64 both ways, and FileSystemTrees with
 * `Uint8Array` contents (as `@webcontainer/api` has them) to and from the
 * JSON the server takes and gives (`{contents: base64, encoding: 'base64'}`).
 */
import type { FileSystemTree, IDirectoryNode, IFileNode } from './types';

/** Base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes of base64 text. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/** A Uint8Array view of binary data (Uint8Array, ArrayBuffer, any view), or null. */
export function asBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) {
    return value;
  }
  if (value instanceof ArrayBuffer) {
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return null;
}

function isDirectory(node: unknown): node is IDirectoryNode {
  return typeof node === 'object' && node !== null && 'directory' in node;
}

/**
 * A tree as the server takes it: byte contents become base64 with
 * `encoding: 'base64'`; anything else is passed on for the server to judge.
 */
export function treeToWire(tree: FileSystemTree): FileSystemTree {
  if (typeof tree !== 'object' || tree === null) {
    return tree;
  }
  const out: FileSystemTree = {};
  for (const [name, node] of Object.entries(tree)) {
    if (isDirectory(node)) {
      out[name] = { directory: treeToWire(node.directory) };
      continue;
    }
    const file = (node as IFileNode | undefined)?.file;
    const bytes = file ? asBytes(file.contents) : null;
    out[name] = bytes
      ? { file: { contents: toBase64(bytes), encoding: 'base64' } }
      : node;
  }
  return out;
}

/**
 * A tree the server answered, as `@webcontainer/api` gives it: base64
 * contents become a Uint8Array (text stays text).
 */
export function treeFromWire(tree: FileSystemTree): FileSystemTree {
  const out: FileSystemTree = {};
  for (const [name, node] of Object.entries(tree ?? {})) {
    if (isDirectory(node)) {
      out[name] = { directory: treeFromWire(node.directory) };
      continue;
    }
    const file = (node as IFileNode).file;
    out[name] =
      file?.encoding === 'base64' && typeof file.contents === 'string'
        ? { file: { contents: fromBase64(file.contents) } }
        : node;
  }
  return out;
}
