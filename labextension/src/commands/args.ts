/**
 * The arguments of the commands as JSON schema (a command's `describedBy`),
 * so callers such as other extensions know what each command takes.
 */
import { ReadonlyJSONObject } from '@lumino/coreutils';

type Argument = {
  type: 'string' | 'number' | 'array';
  description: string;
  enum?: string[];
  items?: { type: 'string' };
};

/** A command description whose arguments are these optional properties. */
export function describeArgs(properties: { [name: string]: Argument }): {
  args: ReadonlyJSONObject;
} {
  return { args: { type: 'object', properties } };
}

const containerId: Argument = {
  type: 'string',
  description: 'The container (default: the selected one)'
};

/** `id` or `containerId`: the container a command acts on. */
export const CONTAINER_ARGS = { id: containerId, containerId };

/** `path`: a file or folder in the explorer's container. */
export const PATH_ARG: Argument = {
  type: 'string',
  description:
    'A path in the workdir, like /src/a.js (default: the selected one)'
};

/** `directory`: a folder in the explorer's container. */
export const DIRECTORY_ARG: Argument = {
  type: 'string',
  description: 'A folder in the workdir (default: the current folder)'
};
