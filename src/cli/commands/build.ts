import type { Command } from 'commander';
import { withApp, type GlobalOptions } from '../app.js';
import { reportTree } from './render-report.js';

interface BuildFlags extends GlobalOptions {
  parallelize?: boolean;
  infra_id?: string;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build an infrastructure (or reconfigure one with -i) and wait until every node is ready')
    .argument('<infra_def>', 'infrastructure description (YAML)')
    .option('--parallelize', 'create the nodes of a level in parallel')
    .option('-i, --infra_id <id>', 'reconfigure this existing infrastructure with the description')
    .action((file: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<BuildFlags>();
      return withApp(flags, async (app, out) => {
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const [{ buildInfrastructure }, { engineFor, interruptSignal, describeEvent }] = await Promise.all([
          import('../../api/infrastructure.js'),
          import('../engine-app.js'),
        ]);
        const engine = engineFor(app);
        const interrupt = interruptSignal(out);
        const stopListening = engine.ctx.events.on((e) => {
          const line = describeEvent(e);
          if (line && !out.json) out.info(`${new Date(e.timestamp).toISOString().slice(11, 19)} ${line}`);
        });
        try {
          const result = await buildInfrastructure(engine, file, {
            ...(flags.infra_id ? { infraId: flags.infra_id } : {}),
            ...(flags.parallelize ? { strategy: 'parallel' as const } : {}),
            signal: interrupt.signal,
            onSubmitted: (id) => out.info(`${flags.infra_id ? 'reconfiguring' : 'building'} infrastructure ${id}`),
          });
          if (out.json) {
            out.data({ infra_id: result.infra_id, updated: result.updated, report: result.report });
          } else {
            out.result(
              [
                `Submitted infrastructure: '${result.infra_id}'`,
                'List of nodes/instances/addresses:',
                reportTree(result.report),
                result.infra_id,
              ].join('\n'),
            );
          }
        } finally {
          stopListening();
          interrupt.dispose();
          await engine.close();
        }
      });
    });
}
