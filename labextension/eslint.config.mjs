import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import prettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import jupyterPlugin from '@jupyter/eslint-plugin';

/**
 * A notification's message, or the title notifyError puts before an error,
 * written as a raw string or template instead of a trans.__ call (the
 * jupyter/no-untranslated-string rule does not look at these calls).
 */
const UNTRANSLATED_MESSAGES = [
  ["CallExpression[callee.object.name='Notification']", 'a notification'],
  ["CallExpression[callee.name='notifyError']", 'notifyError']
].flatMap(([call, what]) => [
  {
    selector: `${call}[arguments.0.type='Literal'][arguments.0.value=/[A-Za-z]/]`,
    message: `The message of ${what} is a raw string: wrap it with trans.__().`
  },
  {
    selector: `${call}[arguments.0.type='TemplateLiteral']`,
    message: `The message of ${what} is a template string: use trans.__('… %1', value).`
  }
]);

export default defineConfig([
  {
    ignores: ['node_modules', 'dist', 'coverage', 'lib', '**/*.js', '**/*.d.ts']
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: {
      jupyter: jupyterPlugin
    }
  },
  jupyterPlugin.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      globals: {
        ...globals.browser,
        ...globals.es2015,
        ...globals.node
      },
      parserOptions: {
        // The unit tests have their own tsconfig (node types, src included).
        project: ['tsconfig.json', 'test/tsconfig.json'],
        sourceType: 'module'
      }
    },
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: {
            regex: '^I[A-Z]',
            match: true
          }
        }
      ],
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-use-before-define': 'off',
      '@typescript-eslint/quotes': [
        'error',
        'single',
        { avoidEscape: true, allowTemplateLiterals: false }
      ],
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error'
    }
  },
  {
    // Every text people read goes through JupyterLab's translator
    // (trans.__ / trans._n with a literal): JSX text, titles, labels,
    // captions, tooltips, dialog titles and bodies, notifications.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/webcontainer/**'],
    rules: {
      'jupyter/no-untranslated-string': 'error',
      'jupyter/no-dynamic-translation': 'error',
      'no-restricted-syntax': [
        'error',
        ...UNTRANSLATED_MESSAGES
      ]
    }
  },
  {
    // The browser WebContainer client is also bundled alone (webcontainer.js)
    // and can be copied out: it imports only from its own folder and npm
    // packages, never from the rest of the extension nor JupyterLab/Lumino.
    files: ['src/webcontainer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['..', '../*', '../**'],
              message:
                'src/webcontainer imports nothing from outside its folder: move what it needs into it.'
            },
            {
              group: ['@jupyterlab/*', '@lumino/*'],
              message:
                'src/webcontainer is a standalone client: no JupyterLab or Lumino imports.'
            }
          ]
        }
      ]
    }
  },
  prettierRecommended
]);
