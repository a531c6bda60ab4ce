import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    environment: 'node',
    server: {
      deps: {
        // Its ES modules import paths without extensions, which Node refuses:
        // let vite resolve them (test/plugins.spec.ts loads the whole front end).
        inline: ['@jupyter/web-components']
      }
    }
  }
});
