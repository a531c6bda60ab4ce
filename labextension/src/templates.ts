/**
 * Starter templates offered when creating a container: FileSystemTrees sent
 * as `files` in `POST /containers`.
 */
import { FileSystemTree, ICreateContainerOptions } from './types';

export interface IStarterTemplate {
  id: string;
  label: string;
  description: string;
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
    label: 'Blank',
    description: 'An empty workdir',
    files: {}
  },
  {
    id: 'node-http',
    label: 'Node.js HTTP server',
    description: 'server.js on port 3000: run `node server.js`',
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
    label: 'Static site',
    description: 'public/index.html served by server.js on port 8080',
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
