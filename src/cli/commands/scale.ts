import type { Command } from 'commander';
import type { requestScaling } from '../../api/infrastructure.js';
import { OccopusError } from '../../errors.js';
import { withApp, type GlobalOptions } from '../app.js';

interface ScaleFlags extends GlobalOptions {
  infraid: string;
  node: string;
  changescale?: string;
  setscale?: string;
  filter?: string;
}

function usage(message: string): OccopusError {
  return new OccopusError('E_CONFIG', message);
}

export function registerScale(program: Command): void {
  program
    .command('scale')
    .description('request more or fewer instances of a node; the maintainer carries it out on its next pass')
    .requiredOption('-i, --infraid <id>', 'the infrastructure')
    .requiredOption('-n, --node <name>', 'the node')
    .option('-c, --changescale <n>', 'add (n > 0) or remove (n < 0) instances')
    .option('-s, --setscale <n>', 'set the number of instances')
    .option('-f, --filter <id-or-address>', 'remove this instance (node id, IPv4 or IPv6 address)')
    .allowUnknownOption(false)
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ScaleFlags>();
      return withApp(flags, async (app, out) => {
        const given = [flags.changescale, flags.setscale, flags.filter].filter((v) => v !== undefined && v !== '').length;
        if (given > 1) throw usage('Too many arguments: only one of -c, -s and -f may be used at a time!');
        if (given === 0) throw usage('Too few arguments: at least -c, -s or -f must be specified!');
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const [{ requestScaling }, { engineFor }] = await Promise.all([import('../../api/infrastructure.js'), import('../engine-app.js')]);
        const engine = engineFor(app);
        try {
          let request: Parameters<typeof requestScaling>[3];
          if (flags.changescale !== undefined) {
            const n = Number(flags.changescale);
            if (!Number.isInteger(n)) throw usage('Positive/negative number must be specified for argument -c!');
            if (n === 0) throw usage('Incorrect argument: value for -c must be different from zero!');
            request = n > 0 ? { kind: 'create', count: n } : { kind: 'destroy', count: -n };
          } else if (flags.setscale !== undefined) {
            const n = Number(flags.setscale);
            if (!Number.isInteger(n) || n <= 0) throw usage('Positive number must be specified for argument -s!');
            request = { kind: 'target', count: n };
          } else {
            request = { kind: 'destroy', selector: flags.filter as string };
          }
          const result = await requestScaling(engine, flags.infraid, flags.node, request);
          result.notes.forEach((n) => out.warn(n));
          if (out.json) out.data(result);
          else {
            const what =
              request.kind === 'create'
                ? `Scaling up node '${flags.node}' with ${request.count} instance(s)`
                : request.kind === 'target'
                  ? `Scaling node '${flags.node}' to ${request.count} instance(s)`
                  : 'selector' in request
                    ? `Scaling down instance(s) of node '${flags.node}' filtered by '${request.selector}'`
                    : `Scaling down node '${flags.node}' by ${request.count} instance(s)`;
            out.result(`${what}: requested; the maintainer applies it on its next pass`);
          }
        } finally {
          await engine.close();
        }
      });
    });
}
