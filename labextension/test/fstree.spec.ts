import { describe, expect, it } from 'vitest';

import { FileTreeModel, compareEntries } from '../src/fstree';

const rowsOf = (tree: FileTreeModel) =>
  tree
    .rows()
    .map(
      r =>
        `${'  '.repeat(r.depth)}${r.name}${r.type === 'directory' ? '/' : ''}`
    );

describe('compareEntries', () => {
  it('puts directories first, then names in natural order', () => {
    const entries = [
      { name: 'b.js', type: 'file' as const },
      { name: 'src', type: 'directory' as const },
      { name: 'file10.txt', type: 'file' as const },
      { name: 'file2.txt', type: 'file' as const },
      { name: 'A.md', type: 'file' as const },
      { name: 'assets', type: 'directory' as const }
    ];
    expect(entries.sort(compareEntries).map(e => e.name)).toEqual([
      'assets',
      'src',
      'A.md',
      'b.js',
      'file2.txt',
      'file10.txt'
    ]);
  });
});

describe('FileTreeModel', () => {
  function listed(): FileTreeModel {
    const tree = new FileTreeModel('/workspace');
    tree.setEntries('/', [
      { name: 'server.js', type: 'file' },
      { name: 'src', type: 'directory' },
      { name: 'README.md', type: 'file' }
    ]);
    return tree;
  }

  it('builds rows from a readdir listing, collapsed directories first', () => {
    const tree = listed();
    expect(rowsOf(tree)).toEqual(['src/', 'README.md', 'server.js']);
    expect(tree.isLoaded('/src')).toBe(false);
  });

  it('shows an expanded directory as loading until listed, then its children', () => {
    const tree = listed();
    tree.toggle('/src');
    expect(tree.rows().find(r => r.path === '/src')).toMatchObject({
      expanded: true,
      loading: true
    });
    expect(tree.pendingListings()).toEqual(['/src']);
    tree.setEntries('/src', [
      { name: 'index.js', type: 'file' },
      { name: 'lib', type: 'directory' }
    ]);
    expect(rowsOf(tree)).toEqual([
      'src/',
      '  lib/',
      '  index.js',
      'README.md',
      'server.js'
    ]);
    expect(tree.pendingListings()).toEqual([]);
    tree.toggle('/src');
    expect(rowsOf(tree)).toEqual(['src/', 'README.md', 'server.js']);
  });

  it('follows fs-change pushes with absolute or workdir paths', () => {
    const tree = listed();
    let changes = 0;
    tree.changed.connect(() => changes++);
    expect(tree.applyChange({ path: '/workspace/app.js', kind: 'add' })).toBe(
      true
    );
    expect(tree.applyChange({ path: '/data', kind: 'addDir' })).toBe(true);
    expect(
      tree.applyChange({ path: '/workspace/README.md', kind: 'unlink' })
    ).toBe(true);
    expect(rowsOf(tree)).toEqual(['data/', 'src/', 'app.js', 'server.js']);
    expect(changes).toBe(3);
    // A repeated add changes nothing.
    expect(tree.applyChange({ path: '/app.js', kind: 'add' })).toBe(false);
    expect(changes).toBe(3);
  });

  it('removes a whole subtree on unlinkDir', () => {
    const tree = listed();
    tree.toggle('/src');
    tree.setEntries('/src', [{ name: 'lib', type: 'directory' }]);
    tree.toggle('/src/lib');
    tree.setEntries('/src/lib', [{ name: 'x.js', type: 'file' }]);
    expect(tree.has('/src/lib/x.js')).toBe(true);
    tree.applyChange({ path: '/src', kind: 'unlinkDir' });
    expect(tree.has('/src')).toBe(false);
    expect(tree.has('/src/lib')).toBe(false);
    expect(tree.has('/src/lib/x.js')).toBe(false);
    expect(tree.isExpanded('/src/lib')).toBe(false);
    expect(rowsOf(tree)).toEqual(['README.md', 'server.js']);
  });

  it('ignores changes inside directories that were never listed', () => {
    const tree = listed();
    expect(tree.applyChange({ path: '/src/deep/a.js', kind: 'add' })).toBe(
      false
    );
    expect(
      tree.applyChange({ path: '/node_modules/x/index.js', kind: 'add' })
    ).toBe(false);
    expect(tree.has('/src/deep')).toBe(false);
    expect(rowsOf(tree)).toEqual(['src/', 'README.md', 'server.js']);
  });

  it('creates missing parents below a listed directory (mkdir -p)', () => {
    const tree = listed();
    tree.toggle('/src');
    tree.setEntries('/src', []);
    expect(tree.applyChange({ path: '/src/a/b.js', kind: 'add' })).toBe(true);
    expect(tree.get('/src/a')?.type).toBe('directory');
    expect(tree.isLoaded('/src/a')).toBe(false);
    // b.js is not recorded: /src/a was not listed, it is read when expanded.
    expect(tree.has('/src/a/b.js')).toBe(false);
  });

  it('a rename is an unlink and an add', () => {
    const tree = listed();
    tree.applyChange({ path: '/server.js', kind: 'unlink' });
    tree.applyChange({ path: '/main.js', kind: 'add' });
    expect(rowsOf(tree)).toEqual(['src/', 'main.js', 'README.md']);
  });

  it('reports content changes of known files without changing the tree', () => {
    const tree = listed();
    const changed: string[] = [];
    tree.fileChanged.connect((_, path) => changed.push(path));
    expect(
      tree.applyChange({ path: '/workspace/server.js', kind: 'change' })
    ).toBe(false);
    expect(changed).toEqual(['/server.js']);
  });

  it('a new listing drops vanished entries and keeps the listings of kept directories', () => {
    const tree = listed();
    tree.toggle('/src');
    tree.setEntries('/src', [{ name: 'index.js', type: 'file' }]);
    tree.setEntries('/', [
      { name: 'src', type: 'directory' },
      { name: 'new.txt', type: 'file' }
    ]);
    expect(rowsOf(tree)).toEqual(['src/', '  index.js', 'new.txt']);
    expect(tree.loadedDirectories()).toEqual(['/', '/src']);
  });

  it('replaces an entry whose type changed', () => {
    const tree = listed();
    tree.setEntries('/', [
      { name: 'server.js', type: 'directory' },
      { name: 'src', type: 'directory' },
      { name: 'README.md', type: 'file' }
    ]);
    expect(tree.get('/server.js')?.type).toBe('directory');
  });

  it('collapses everything but the root', () => {
    const tree = listed();
    tree.toggle('/src');
    tree.setEntries('/src', [{ name: 'a', type: 'file' }]);
    tree.collapseAll();
    expect(rowsOf(tree)).toEqual(['src/', 'README.md', 'server.js']);
    // The root itself cannot be collapsed.
    tree.toggle('/');
    expect(tree.isExpanded('/')).toBe(true);
  });
});
