/** The node/instance/address tree Occopus prints after build and for `occopus-maintain -r`. */
import type { InfraReport } from '../../enactor/report.js';

export function addressesOf(value: string | string[] | null): string[] {
  if (value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function reportTree(report: InfraReport, filter?: string): string {
  const lines: string[] = [];
  for (const [name, node] of Object.entries(report.nodes)) {
    if (filter && !name.includes(filter)) continue;
    lines.push(`${name}:`);
    for (const [id, inst] of Object.entries(node.instances)) {
      lines.push(`  ${id}: ${inst.state}`);
      for (const a of addressesOf(inst.resource_address)) lines.push(`    ${a}`);
      for (const d of inst.details ?? []) lines.push(`    ! ${d}`);
    }
  }
  return lines.join('\n');
}
