/** The InfraProcessor's commands (runtime §4.1). */
import type { NodeDescription } from '../compiler/types.js';
import type { InstanceRecord } from '../store/store.js';

export type Command =
  | { kind: 'CreateInfrastructure'; infraId: string }
  | { kind: 'CreateNode'; node: NodeDescription }
  | { kind: 'DropNode'; record: InstanceRecord; reason: string }
  | { kind: 'DropInfrastructure'; infraId: string };

export function describeCommand(command: Command): string {
  switch (command.kind) {
    case 'CreateNode':
      return `CreateNode(${command.node.name})`;
    case 'DropNode':
      return `DropNode(${command.record.node_name}/${command.record.node_id})`;
    default:
      return `${command.kind}(${command.infraId})`;
  }
}
