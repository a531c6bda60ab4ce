/** The command palette category of every command of the extension. */
export const CATEGORY = 'Container Manager';
