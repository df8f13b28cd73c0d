import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh HOME and working directory, so lookups never see the real user's files. */
export function sandbox(): { root: string; home: string; cwd: string; write(path: string, text: string): string } {
  const root = mkdtempSync(join(tmpdir(), 'occopus-config-'));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(home);
  mkdirSync(cwd);
  return {
    root,
    home,
    cwd,
    write(path: string, text: string): string {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
      return full;
    },
  };
}
