/**
 * The umbrella command `occopus <verb>`. The Occopus-named tools (`occopus-import`, ...) call
 * {@link main} with their verb prepended, so both spellings share flags, output and exit codes.
 */
import { Command, CommanderError } from 'commander';
import { registerImport } from './commands/import.js';
import { registerValidate } from './commands/validate.js';
import { registerBuild } from './commands/build.js';
import { registerMaintain } from './commands/maintain.js';
import { registerScale } from './commands/scale.js';
import { registerDestroy } from './commands/destroy.js';
import { registerServe } from './commands/serve.js';
import { registerStore } from './commands/store.js';
import { EXIT_USAGE } from './output.js';

export function buildProgram(): Command {
  const program = new Command('occopus')
    .description('Orchestrator for virtual infrastructures, compatible with Occopus 1.10')
    .option('--cfg <path>', 'config file (default: $OCCOPUS_CONFIG_PATH, ~/.occopus/occopus_config.yaml, ./occopus_config.yaml)')
    .option('--auth_data_path <path>', 'auth data file (default: $OCCOPUS_AUTH_DATA_PATH, ~/.occopus/auth_data.yaml, ./auth_data.yaml)')
    .option('--store <url>', 'state store: sqlite:PATH, redis://[user:password@]host[:port][/db] or memory: (default: the config, else ~/.occopus/occopus.db)')
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError()
    .exitOverride();
  registerImport(program);
  registerValidate(program);
  registerBuild(program);
  registerMaintain(program);
  registerScale(program);
  registerDestroy(program);
  registerServe(program);
  registerStore(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    throw e;
  }
}
