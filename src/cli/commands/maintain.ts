import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OccopusError, messageOf } from '../../errors.js';
import { withApp, type GlobalOptions } from '../app.js';
import { addressesOf, reportTree } from './render-report.js';

interface MaintainFlags extends GlobalOptions {
  infraid?: string;
  list?: boolean;
  interval?: string;
  cyclic?: boolean;
  report?: boolean;
  parallelize?: boolean;
  output?: string;
  filter?: string;
}

export function registerMaintain(program: Command): void {
  program
    .command('maintain')
    .description('list infrastructures, report one, or maintain it (one pass, or cyclic with -c)')
    .option('-i, --infraid <id>', 'the infrastructure')
    .option('-l, --list', 'list the infrastructures')
    .option('-t, --interval <seconds>', 'seconds between passes with -c', '10')
    .option('-c, --cyclic', 'keep maintaining until interrupted')
    .option('-r, --report', 'report nodes, instances and addresses (no maintenance)')
    .option('--parallelize', 'create the nodes of a level in parallel')
    .option('-o, --output <file>', 'with -r: write one line of addresses per instance to this file')
    .option('-f, --filter <name>', 'with -r: only nodes whose name contains this')
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<MaintainFlags>();
      return withApp(flags, async (app, out) => {
        if (!flags.infraid) {
          if (!flags.list) throw new OccopusError('E_NOT_FOUND', 'No infra_id (-i) specified!');
          const ids = await app.store.listInfrastructures();
          if (out.json) out.data({ infrastructures: ids });
          else out.result(ids.length ? ['List of active infrastructure:', ...ids].join('\n') : 'No active infrastructure!');
          return;
        }
        const infraId = flags.infraid;
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const [{ reportInfrastructure }, { InfrastructureMaintenanceProcess }, { engineFor, interruptSignal, describeEvent }] = await Promise.all([
          import('../../api/infrastructure.js'),
          import('../../api/maintenance.js'),
          import('../engine-app.js'),
        ]);
        const engine = engineFor(app);
        try {
          if (flags.report) {
            const report = await reportInfrastructure(engine, infraId);
            if (flags.filter) {
              for (const name of Object.keys(report.nodes)) if (!name.includes(flags.filter)) delete report.nodes[name];
            }
            if (flags.output) {
              const lines = Object.values(report.nodes).flatMap((n) =>
                Object.values(n.instances).map((i) => addressesOf(i.resource_address).join(' ')),
              );
              writeFileSync(flags.output, lines.length ? `${lines.join('\n')}\n` : '');
              out.info(`saved the addresses of ${lines.length} instance(s) to "${flags.output}"`);
            }
            if (out.json) out.data(report);
            else if (!flags.output) out.result(['Report list of nodes/instances/addresses:', reportTree(report)].join('\n'));
            return;
          }
          const interval = Number(flags.interval ?? '10');
          if (!Number.isFinite(interval) || interval <= 0) throw new OccopusError('E_CONFIG', `-t must be a positive number of seconds, got '${flags.interval}'`);
          const interrupt = interruptSignal(out);
          const stopListening = engine.ctx.events.on((e) => {
            const line = describeEvent(e);
            if (line && !out.json) out.info(`${new Date(e.timestamp).toISOString().slice(11, 19)} ${line}`);
          });
          const maintainer = new InfrastructureMaintenanceProcess(engine, infraId, interval, flags.parallelize ? 'parallel' : app.configuration.engine.strategy, {
            onError: (e) => out.warn(`pass failed: ${messageOf(e)}`),
            onWaiting: (m) => out.info(`waiting: ${m}`),
          });
          interrupt.signal.addEventListener('abort', () => void maintainer.stop(60), { once: true });
          try {
            let last: unknown = null;
            await maintainer.start({
              once: !flags.cyclic,
              // A single pass waits for a lease left by a crashed process to expire.
              leaseWaitMs: (app.configuration.engine.lease_ttl + 5) * 1000,
            }).catch((e: unknown) => {
              last = e;
            });
            if (last !== null && !(flags.cyclic && interrupt.signal.aborted)) throw last;
            if (!flags.cyclic && interrupt.signal.aborted) throw interrupt.signal.reason;
            if (!flags.cyclic) {
              const report = await reportInfrastructure(engine, infraId);
              if (out.json) out.data(report);
              else out.result(['Maintained infrastructure:', reportTree(report)].join('\n'));
            }
          } finally {
            stopListening();
            interrupt.dispose();
          }
        } finally {
          await engine.close();
        }
      });
    });
}
