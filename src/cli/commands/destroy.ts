import type { Command } from 'commander';
import { withApp, type GlobalOptions } from '../app.js';

interface DestroyFlags extends GlobalOptions {
  infra_id: string;
  wait?: string;
}

export function registerDestroy(program: Command): void {
  program
    .command('destroy')
    .description('tear an infrastructure down: every instance, its environments and its records')
    .requiredOption('-i, --infra_id <id>', 'the infrastructure')
    .option('--wait <seconds>', 'wait this long for a maintainer to release the infrastructure', '0')
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<DestroyFlags>();
      return withApp(flags, async (app, out) => {
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const [{ destroyInfrastructure }, { engineFor, describeEvent }] = await Promise.all([
          import('../../api/infrastructure.js'),
          import('../engine-app.js'),
        ]);
        const engine = engineFor(app);
        const stop = engine.ctx.events.on((e) => {
          const line = describeEvent(e);
          if (line && !out.json) out.info(line);
        });
        try {
          await destroyInfrastructure(engine, flags.infra_id, { waitMs: Number(flags.wait ?? 0) * 1000 });
          if (out.json) out.data({ infra_id: flags.infra_id, destroyed: true });
          else out.result(`Infrastructure '${flags.infra_id}' destroyed`);
        } finally {
          stop();
          await engine.close();
        }
      });
    });
}
