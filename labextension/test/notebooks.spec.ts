import { describe, expect, it } from 'vitest';

import { notebookPathFor } from '../src/notebooks';

describe('notebookPathFor', () => {
  it('names the notebook after the container, safe as a file name', () => {
    expect(notebookPathFor('web-1')).toBe('web-1.ipynb');
    expect(notebookPathFor('my box/../x')).toBe('my-box-..-x.ipynb');
    expect(notebookPathFor('..hidden')).toBe('hidden.ipynb');
    expect(notebookPathFor('///')).toBe('container.ipynb');
  });
});
