/** Where "Open a Notebook in this Container" puts a container's notebook. */

/** The notebook of a container: its name, made safe for a file name. */
export function notebookPathFor(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return `${safe || 'container'}.ipynb`;
}
