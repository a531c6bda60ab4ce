// @vitest-environment jsdom
/**
 * The plugins the package's main exports: one provides the IContainerManager
 * token, the others require it, and every settings schema belongs to a plugin.
 */
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { describe, expect, it, vi } from 'vitest';

import plugins, { IContainerManager } from '../src/index';

vi.hoisted(() => {
  // What jsdom lacks and JupyterLab's modules use when they load: DragEvent
  // (@lumino/dragdrop extends it), matchMedia (the toolkit's design tokens),
  // a canvas context (xterm measures colours with one; null is its fallback).
  const g = globalThis as { DragEvent?: unknown };
  g.DragEvent ??= class DragEvent extends MouseEvent {};
  window.matchMedia ??= (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => undefined,
      removeListener: () => undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      dispatchEvent: () => false
    }) as MediaQueryList;
  HTMLCanvasElement.prototype.getContext = () => null;
});

const root = join(__dirname, '..');
const packageName: string = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf-8')
).name;
const schemaNames = readdirSync(join(root, 'schema'))
  .filter(name => name.endsWith('.json'))
  .map(name => name.slice(0, -'.json'.length));

describe('plugins', () => {
  const ids = plugins.map(plugin => plugin.id);

  it('are the extension parts, with distinct ids under the package name', () => {
    expect(ids).toEqual([
      'jupyter-container-manager:core',
      'jupyter-container-manager:plugin',
      'jupyter-container-manager:commands',
      'jupyter-container-manager:drive',
      'jupyter-container-manager:previews',
      'jupyter-container-manager:panel',
      'jupyter-container-manager:launcher',
      'jupyter-container-manager:filebrowser',
      'jupyter-container-manager:image-pulls'
    ]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id.startsWith(`${packageName}:`)).toBe(true);
    }
    for (const plugin of plugins) {
      expect(plugin.autoStart).toBe(true);
      expect(plugin.description).toBeTruthy();
    }
  });

  it('has one provider of IContainerManager, which the others require', () => {
    const providers = plugins.filter(p => p.provides === IContainerManager);
    expect(providers.map(p => p.id)).toEqual([
      'jupyter-container-manager:core'
    ]);
    expect(IContainerManager.name).toBe(
      'jupyter-container-manager:IContainerManager'
    );
    for (const plugin of plugins) {
      if (plugin.provides !== IContainerManager) {
        expect(plugin.requires ?? []).toContain(IContainerManager);
      }
    }
  });

  it('has a plugin for every settings schema file', () => {
    // JupyterLab finds a plugin's settings at schema/<the id after the colon>.json.
    expect(schemaNames).toEqual(['plugin']);
    for (const name of schemaNames) {
      expect(ids).toContain(`${packageName}:${name}`);
    }
  });
});
