import type { Command } from 'commander';
import { consoleOutput, reportError, EXIT_OK } from '../output.js';
import type { GlobalOptions } from '../app.js';

interface MigrateFlags extends GlobalOptions {
  from: string;
  to: string;
  user?: string[];
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('manage the state store');
  store
    .command('migrate')
    .description('copy every user’s data from one store to another (e.g. sqlite:... to redis://...); stop the orchestrators first')
    .requiredOption('--from <url>', 'source store: sqlite:PATH or redis://[user:password@]host[:port][/db][?prefix=P]')
    .requiredOption('--to <url>', 'target store; must hold no data of the users copied')
    .option('--user <name...>', 'copy only these users (default: all)')
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<MigrateFlags>();
      const out = consoleOutput(Boolean(flags.json));
      try {
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const { migrateStore } = await import('../../store/migrate.js');
        const result = await migrateStore(flags.from, flags.to, flags.user ? { users: flags.user } : {});
        if (out.json) out.data(result);
        else if (result.users.length === 0) out.result('The source store holds no data: nothing to copy');
        else {
          const lines = result.users.map(
            (u) =>
              `  ${u.user}: ${u.node_definition_types} node type(s), ${u.infrastructures} infrastructure(s), ` +
              `${u.instances} instance(s), ${u.failed_instances} archived, ${u.scaling_requests} scaling request(s), ` +
              `${u.events} event(s), ${u.leases} lease(s), ${u.kv_values} driver value(s)`,
          );
          out.result([`Copied and verified the data of ${result.users.length} user(s):`, ...lines].join('\n'));
        }
        process.exitCode = EXIT_OK;
      } catch (e) {
        process.exitCode = reportError(e, out.json);
      }
    });
}
