/** Pointing compiler messages at the user's file. */
import type { SourceLocation } from '../errors.js';

export type DocPath = readonly (string | number)[];

/** Source position of a path inside the loaded document (the loader's `LoadedDocument.locate`). */
export type Locate = (path: DocPath) => SourceLocation | undefined;

/** The position of the first path that has one: the most precise path first, enclosing ones after. */
export function locateFirst(locate: Locate | undefined, ...paths: DocPath[]): SourceLocation | undefined {
  if (!locate) return undefined;
  for (const p of paths) {
    const loc = locate(p);
    if (loc) return loc;
  }
  return undefined;
}
