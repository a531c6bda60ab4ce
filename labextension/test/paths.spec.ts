import { describe, expect, it } from 'vitest';

import {
  base64ToBytes,
  bytesToBase64,
  decodeUtf8,
  mtimeToIso,
  splitLocalPath,
  toDrivePath,
  toLocalPath
} from '../src/drive';
import {
  basename,
  dirname,
  fromServerPath,
  isValidName,
  isWithin,
  join,
  normalize,
  toUrlPath
} from '../src/webcontainer/paths';
import { STARTER_TEMPLATES, createOptionsFrom } from '../src/templates';

describe('paths', () => {
  it('normalizes to one leading slash and resolves dots without leaving the root', () => {
    expect(normalize('')).toBe('/');
    expect(normalize('src//a/./b/')).toBe('/src/a/b');
    expect(normalize('/a/../../b')).toBe('/b');
    expect(join('/src', '../lib/x.js')).toBe('/lib/x.js');
  });

  it('splits into dirname and basename', () => {
    expect(dirname('/src/a.js')).toBe('/src');
    expect(dirname('/a.js')).toBe('/');
    expect(dirname('/')).toBe('/');
    expect(basename('/src/a.js')).toBe('a.js');
    expect(basename('/')).toBe('');
  });

  it('tells containment by segments, not by prefix', () => {
    expect(isWithin('/src/a', '/src')).toBe(true);
    expect(isWithin('/srcx', '/src')).toBe(false);
    expect(isWithin('/anything', '/')).toBe(true);
  });

  it('encodes each segment for URL routes', () => {
    expect(toUrlPath('/my dir/a#1.js')).toBe('my%20dir/a%231.js');
    expect(toUrlPath('/')).toBe('');
  });

  it('turns absolute container paths into workdir paths', () => {
    expect(fromServerPath('/workspace/src/a.js', '/workspace')).toBe(
      '/src/a.js'
    );
    expect(fromServerPath('/workspace', '/workspace')).toBe('/');
    expect(fromServerPath('/src/a.js', '/workspace')).toBe('/src/a.js');
    expect(fromServerPath('/workspace2/a', '/workspace')).toBe('/workspace2/a');
  });

  it('refuses names with separators or dots only', () => {
    expect(isValidName('index.js')).toBe(true);
    expect(isValidName('a/b')).toBe(false);
    expect(isValidName('..')).toBe(false);
    expect(isValidName('')).toBe(false);
  });
});

describe('drive paths and encodings', () => {
  const id = '0b7e8d7c-1f4a-4a8e-9c55-5a6b7c8d9e0f';

  it('maps container files to drive paths and back', () => {
    expect(toDrivePath(id, '/src/a.js')).toBe(`container:${id}/src/a.js`);
    expect(toLocalPath(id, '/')).toBe(id);
    expect(splitLocalPath(`${id}/src/a.js`)).toEqual({
      containerId: id,
      path: '/src/a.js'
    });
    expect(splitLocalPath(id)).toEqual({ containerId: id, path: '/' });
  });

  it('reads stat mtimes in seconds, milliseconds or as dates', () => {
    expect(mtimeToIso(1700000000)).toBe('2023-11-14T22:13:20.000Z');
    expect(mtimeToIso(1700000000123)).toBe('2023-11-14T22:13:20.123Z');
    expect(mtimeToIso('1700000000.5')).toBe('2023-11-14T22:13:20.500Z');
    expect(mtimeToIso('2024-02-03T04:05:06Z')).toBe('2024-02-03T04:05:06.000Z');
    expect(mtimeToIso(undefined)).toBe('');
  });

  it('tells UTF-8 text from binary and round-trips base64', () => {
    expect(decodeUtf8(new TextEncoder().encode('héllo ✓'))).toBe('héllo ✓');
    expect(decodeUtf8(new Uint8Array([0xff, 0xfe, 0x00]))).toBeNull();
    const bytes = new Uint8Array(70000).map((_, i) => (i * 7) % 256);
    const encoded = bytesToBase64(bytes);
    expect(Buffer.from(encoded, 'base64').equals(Buffer.from(bytes))).toBe(
      true
    );
    expect(base64ToBytes(encoded)).toEqual(bytes);
  });
});

describe('createOptionsFrom', () => {
  it('sends only what was filled in, plus the template files and ports', () => {
    expect(
      createOptionsFrom({ name: '  ', image: '', template: 'blank' })
    ).toEqual({});
    const options = createOptionsFrom({
      name: ' web ',
      image: 'node:20-alpine',
      template: 'node-http'
    });
    expect(options.name).toBe('web');
    expect(options.image).toBe('node:20-alpine');
    expect(options.ports).toEqual([3000]);
    expect(Object.keys(options.files!).sort()).toEqual([
      'README.md',
      'package.json',
      'server.js'
    ]);
  });

  it('has well-formed trees: every leaf a file with contents', () => {
    const check = (tree: Record<string, any>) => {
      for (const node of Object.values(tree)) {
        if ('directory' in node) {
          check(node.directory);
        } else {
          expect(typeof node.file.contents).toBe('string');
        }
      }
    };
    STARTER_TEMPLATES.forEach(t => check(t.files));
  });
});
