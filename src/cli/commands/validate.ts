import type { Command } from 'commander';
import type { stringify } from 'yaml';
import type { ValidationReport } from '../../api/validate.js';
import { withApp, type GlobalOptions } from '../app.js';

interface ValidateFlags extends GlobalOptions {
  nodes?: string;
  render?: boolean;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an infrastructure description: schema, compile, resolve every node (nothing is created)')
    .argument('<infra_def>', 'infrastructure description (YAML)')
    .option('--nodes <file>', 'take node definitions from this file instead of the store')
    .option('--render', "print each node's rendered resource and contextualisation")
    .action((file: string, _opts: unknown, cmd: Command) =>
      withApp(cmd.optsWithGlobals<ValidateFlags>(), async (app, out) => {
        const flags = cmd.optsWithGlobals<ValidateFlags>();
        // Loaded when the command runs, so that `occopus --help` and the other commands do not pay for it.
        const [{ readNodeDefinitionFile }, { validateInfrastructureFile }, { stringify }] = await Promise.all([
          import('../../api/import.js'),
          import('../../api/validate.js'),
          import('yaml'),
        ]);
        let definitions;
        if (flags.nodes) {
          const read = readNodeDefinitionFile(flags.nodes);
          read.warnings.forEach((w) => out.warn(w));
          definitions = read.definitions;
        }
        const report = await validateInfrastructureFile(file, {
          store: app.store,
          ...(definitions ? { definitions } : {}),
          allowCmd: app.configuration.templates.allow_cmd,
        });
        report.warnings.forEach((w) => out.warn(w));
        if (out.json) out.data(flags.render ? report : withoutRendering(report));
        else out.result(describe(report, Boolean(flags.render), stringify));
      }),
    );
}

function withoutRendering(report: ValidationReport): unknown {
  return {
    ...report,
    nodes: report.nodes.map((n) => ({
      ...n,
      implementations: n.implementations.map(({ index, resource_type }) => ({ index, resource_type })),
    })),
  };
}

function describe(report: ValidationReport, render: boolean, yaml: typeof stringify): string {
  const lines = [
    `${report.file}: infrastructure '${report.infra_name}' is valid: ` +
      `${report.nodes.length} node(s) in ${report.levels.length} level(s)`,
  ];
  report.levels.forEach((level, i) => lines.push(`  level ${i}: ${level.join(', ')}`));
  for (const node of report.nodes) {
    const impls = node.implementations.map((i) => `${node.type}[${i.index}] (${i.resource_type})`).join(', ');
    lines.push(`  node ${node.name}: scaling ${node.scaling.min}..${node.scaling.max}; ${impls}`);
    if (!render) continue;
    for (const impl of node.implementations) {
      const r = impl.resolved;
      lines.push(`--- ${node.name}: ${node.type}[${impl.index}]`);
      lines.push(yaml({ resource: r.resource }).trimEnd());
      if (r.context !== undefined) lines.push('context: |', ...r.context.split('\n').map((l) => `  ${l}`));
      const { connections: _c, ...attributes } = r.attributes;
      if (Object.keys(attributes).length) lines.push(yaml({ attributes }).trimEnd());
    }
  }
  return lines.join('\n');
}
