/**
 * The lint check that keeps every text people read in JupyterLab's translator
 * (eslint.config.mjs: jupyter/no-untranslated-string, jupyter/no-dynamic-translation
 * and the restricted syntax of notification messages). `jlpm lint:check` runs it on
 * src/; here it is run on samples, so that a change to the configuration that lets an
 * untranslated text through fails.
 */
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const TRANSLATION_RULES = new Set([
  'jupyter/no-untranslated-string',
  'jupyter/no-dynamic-translation',
  'no-restricted-syntax'
]);

const HEADER = `import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import React from 'react';
import { notifyError } from '../commands';
const trans = nullTranslator.load('jupyter_container_manager');
const name = 'x';
void Dialog;
void trans;
void name;
void notifyError;
void showDialog;
void Notification;
void React;
`;

let eslint: ESLint;

/** `text` linted as a file of src/panel. */
async function lint(text: string): Promise<ESLint.LintResult> {
  // An existing file's path: typed linting knows it (its text is the sample's).
  const [result] = await eslint.lintText(text, {
    filePath: 'src/panel/previews.tsx'
  });
  return result;
}

/** The translation findings of `body` linted as a file of src/panel. A sample that
 * could not be linted at all (a parse or project error: no rule ran) fails the test
 * with that error, rather than passing as "nothing found". */
async function findings(body: string): Promise<string[]> {
  let result = await lint(HEADER + body);
  if (result.messages.some(m => m.fatal)) {
    result = await lint(HEADER + body); // once more: the first lint builds the program
  }
  const fatal = result.messages.filter(m => m.fatal);
  if (fatal.length) {
    throw new Error(`not linted: ${fatal.map(m => m.message).join('; ')}`);
  }
  return result.messages
    .filter(m => m.ruleId !== null && TRANSLATION_RULES.has(m.ruleId))
    .map(m => `${m.ruleId}: ${m.message}`);
}

describe('the translation lint check', () => {
  beforeAll(async () => {
    eslint = new ESLint({ cwd: `${__dirname}/..` });
    await lint(HEADER); // builds the typed program once, before the first sample
  }, 60000);

  it.each([
    ['JSX text', 'export const a = <p>No container selected.</p>;'],
    ['a JSX title', 'export const a = <p title="Open the preview" />;'],
    ['a JSX aria-label', 'export const a = <p aria-label={`Files`} />;'],
    [
      'a dialog title',
      "void showDialog({ title: 'Delete File', buttons: [] });"
    ],
    ['a dialog body', "void showDialog({ body: 'Delete it?' });"],
    [
      'a dialog button label',
      "export const b = Dialog.warnButton({ label: 'Delete' });"
    ],
    ['a notification', "Notification.error('Could not list containers');"],
    ['a notification template', 'Notification.success(`Pulled ${name}`);'],
    ['a notifyError title', "notifyError('File explorer', new Error());"],
    ['a notifyError template', 'notifyError(`Container ${name}`, null);'],
    ['a translation of a variable', 'export const t = trans.__(name);'],
    [
      'an assigned textContent',
      "document.body.textContent = 'Starter template';"
    ]
  ])(
    'fails on an untranslated text: %s',
    async (_, body) => {
      expect(await findings(body)).toHaveLength(1);
    },
    60000
  );

  it('accepts the same texts through trans.__', async () => {
    const body = `
export const a = <p title={trans.__('Open the preview')}>{trans.__('No container selected.')}</p>;
void showDialog({ title: trans.__('Delete File'), body: trans.__('Delete "%1"?', name), buttons: [Dialog.warnButton({ label: trans.__('Delete') })] });
Notification.error(trans.__('Could not list containers'));
Notification.success(trans._n('Pulled %1 image', 'Pulled %1 images', 2));
notifyError(trans.__('Container %1', name), null);
document.body.textContent = trans.__('Starter template');
export const p = <p>{name}: 42 %</p>;
`;
    expect(await findings(body)).toEqual([]);
  }, 60000);
});
