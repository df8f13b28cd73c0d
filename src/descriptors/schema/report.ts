/** Builds the one SchemaError a checker throws: every issue located in the user's file, in file order. */
import { SchemaError, type SchemaIssue } from '../../errors.js';
import type { LoadedDocument } from '../load.js';

export function toSchemaError(issues: readonly SchemaIssue[], doc: Pick<LoadedDocument, 'locate'>): SchemaError {
  const located = issues.map((issue, order) => {
    const location = doc.locate(issue.path);
    return { issue: location ? { ...issue, location } : { ...issue }, order };
  });
  // Issues without a position go last; equal positions keep the order the checker found them in.
  const line = (l: { issue: SchemaIssue }) => l.issue.location?.line ?? Infinity;
  const column = (l: { issue: SchemaIssue }) => l.issue.location?.column ?? Infinity;
  located.sort((a, b) => (line(a) - line(b) || column(a) - column(b) || a.order - b.order));
  return new SchemaError(located.map((l) => l.issue));
}
