// The search boxes of the API (`q`) match text anywhere in a column, with LIKE/ILIKE.

/** A LIKE pattern matching `text` anywhere: its own `%`, `_` and `\` match themselves, not as wildcards. */
export const containing = (text: string) => `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
