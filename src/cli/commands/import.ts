import type { Command } from 'commander';
import { withApp, type GlobalOptions } from '../app.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('check a node-definition file and store its node types (replacing earlier ones)')
    .argument('<node_def_file>', 'node-definition file (YAML)')
    .action((file: string, _opts: unknown, cmd: Command) =>
      withApp(cmd.optsWithGlobals<GlobalOptions>(), async (app, out) => {
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const { importNodeDefinitions } = await import('../../api/import.js');
        const result = await importNodeDefinitions(file, app.store);
        result.warnings.forEach((w) => out.warn(w));
        if (out.json) out.data({ file: result.file, imported: result.types });
        else out.result(`Successfully imported nodes: ${result.types.join(', ')}`);
      }),
    );
}
