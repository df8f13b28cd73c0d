/** Shared plumbing of the commands: global options, setup, error reporting, exit codes. */
import type { OccopusApp } from '../api/setup.js';
import { consoleOutput, reportError, EXIT_OK, type Output } from './output.js';

export interface GlobalOptions {
  cfg?: string;
  auth_data_path?: string;
  store?: string;
  json?: boolean;
}

/** Sets the process exit code; never calls process.exit, so pending output is flushed. */
export async function withApp(opts: GlobalOptions, body: (app: OccopusApp, out: Output) => Promise<void>): Promise<void> {
  const out = consoleOutput(Boolean(opts.json));
  let app: OccopusApp | undefined;
  try {
    // Loaded here, not at the top: `occopus --help` needs none of the config, store and schema code.
    const { setup } = await import('../api/setup.js');
    app = await setup({
      ...(opts.cfg !== undefined ? { cfg: opts.cfg } : {}),
      ...(opts.auth_data_path !== undefined ? { authDataPath: opts.auth_data_path } : {}),
      ...(opts.store !== undefined ? { store: opts.store } : {}),
    });
    app.warnings.forEach((w) => out.warn(w));
    await body(app, out);
    process.exitCode = EXIT_OK;
  } catch (e) {
    process.exitCode = reportError(e, out.json);
  } finally {
    await app?.close().catch(() => undefined);
  }
}
