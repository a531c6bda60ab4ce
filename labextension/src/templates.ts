/**
 * Starter templates offered when creating a container: FileSystemTrees sent
 * as `files` in `POST /containers`.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import { FileSystemTree, ICreateContainerOptions } from './types';

/** A starter template; its label and description are templateText's. */
export interface IStarterTemplate {
  id: string;
  files: FileSystemTree;
  /** Ports the template's server listens on, announced at create. */
  ports?: number[];
}

const NODE_SERVER = `const http = require('http');

const port = Number(process.env.PORT || 3000);

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end('<h1>Hello from your container</h1><p>Path: ' + req.url + '</p>');
});

server.listen(port, () => {
  console.log('Listening on port ' + port);
});
`;

const STATIC_SERVER = `const http = require('http');
const fs = require('fs');
const path = require('path');

const port = Number(process.env.PORT || 8080);
const root = path.join(__dirname, 'public');
const types = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript' };

http
  .createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    const file = path.join(root, url.endsWith('/') ? url + 'index.html' : url);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404).end('Not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  })
  .listen(port, () => console.log('Serving ./public on port ' + port));
`;

export const STARTER_TEMPLATES: IStarterTemplate[] = [
  {
    id: 'blank',
    files: {}
  },
  {
    id: 'node-http',
    ports: [3000],
    files: {
      'package.json': {
        file: {
          contents:
            JSON.stringify(
              {
                name: 'hello-server',
                version: '1.0.0',
                private: true,
                scripts: { start: 'node server.js' }
              },
              null,
              2
            ) + '\n'
        }
      },
      'server.js': { file: { contents: NODE_SERVER } },
      'README.md': {
        file: {
          contents:
            '# Hello server\n\nRun `npm start` (or `node server.js`) in a terminal; ' +
            'the preview link for port 3000 appears in the Previews section.\n'
        }
      }
    }
  },
  {
    id: 'static-site',
    ports: [8080],
    files: {
      'server.js': { file: { contents: STATIC_SERVER } },
      public: {
        directory: {
          'index.html': {
            file: {
              contents:
                '<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8" />\n' +
                '    <title>Static site</title>\n    <link rel="stylesheet" href="style.css" />\n' +
                '  </head>\n  <body>\n    <h1>It works</h1>\n  </body>\n</html>\n'
            }
          },
          'style.css': {
            file: {
              contents: 'body { font-family: sans-serif; margin: 2rem; }\n'
            }
          }
        }
      }
    }
  }
];

/**
 * A template's label and description in the user's language. Each text is a
 * literal of its own `trans.__` call, so that translation tools find it.
 */
export function templateText(
  trans: TranslationBundle,
  template: IStarterTemplate
): { label: string; description: string } {
  switch (template.id) {
    case 'node-http':
      return {
        label: trans.__('Node.js HTTP server'),
        description: trans.__('server.js on port 3000: run `node server.js`')
      };
    case 'static-site':
      return {
        label: trans.__('Static site'),
        description: trans.__(
          'public/index.html served by server.js on port 8080'
        )
      };
    default:
      return {
        label: trans.__('Blank'),
        description: trans.__('An empty workdir')
      };
  }
}

export function findTemplate(id: string | undefined): IStarterTemplate {
  return STARTER_TEMPLATES.find(t => t.id === id) ?? STARTER_TEMPLATES[0];
}

/** Build the create request from what the form holds. */
export function createOptionsFrom(form: {
  name: string;
  image: string;
  template: string;
}): ICreateContainerOptions {
  const options: ICreateContainerOptions = {};
  const name = form.name.trim();
  const image = form.image.trim();
  if (name) {
    options.name = name;
  }
  if (image) {
    options.image = image;
  }
  const template = findTemplate(form.template);
  if (Object.keys(template.files).length > 0) {
    options.files = template.files;
  }
  if (template.ports?.length) {
    options.ports = template.ports;
  }
  return options;
}
