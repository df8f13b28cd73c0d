/**
 * The InfraProcessor (runtime §4): runs a batch of independent commands with a strategy.
 *
 * - `sequential`: one after another; the first critical error stops the batch (nodes already
 *   created stay, the failing one rolled itself back).
 * - `parallel`: up to `parallelism` commands at once; the first critical error cancels the
 *   in-flight siblings, which roll back their own nodes, and nothing new starts (Occopus's intent,
 *   without its process-per-command and broken error transport, runtime §10.8–10).
 *
 * A failed drop is minor: it is logged, its record stays `dropping`, and the next pass retries it.
 */
import type { NodeDefinition } from '../descriptors/types.js';
import { CancelledError, childController, throwIfAborted } from '../util/abort.js';
import { messageOf } from '../errors.js';
import type { EngineContext } from './context.js';
import { describeCommand, type Command } from './commands.js';
import { createNode, type CreateNodeResult } from './create-node.js';
import { dropInstance } from './drop-node.js';
import { DropFailedError } from './errors.js';

export type ProcessStrategy = 'sequential' | 'parallel';

export interface StrategyOptions {
  strategy: ProcessStrategy;
  /** Commands run at once by the parallel strategy. */
  parallelism: number;
}

export type CommandResult = CreateNodeResult | null;

export class InfraProcessor {
  constructor(
    private readonly ctx: EngineContext,
    private readonly options: StrategyOptions,
  ) {}

  /** Runs one batch. Sends `infraupdated` when the batch did something and succeeded. */
  async pushInstructions(infraId: string, commands: Command[], signal: AbortSignal): Promise<CommandResult[]> {
    if (commands.length === 0) return [];
    const results =
      this.options.strategy === 'parallel' && commands.length > 1
        ? await this.runParallel(commands, signal)
        : await this.runSequential(commands, signal);
    await this.ctx.events.emit(infraId, 'infraupdated', { commands: commands.map(describeCommand) });
    return results;
  }

  private async runSequential(commands: Command[], signal: AbortSignal): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    for (const command of commands) {
      throwIfAborted(signal);
      results.push(await this.perform(command, signal));
    }
    return results;
  }

  private async runParallel(commands: Command[], signal: AbortSignal): Promise<CommandResult[]> {
    const batch = childController(signal);
    const results: CommandResult[] = new Array<CommandResult>(commands.length).fill(null);
    let firstError: unknown = null;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < commands.length && !batch.signal.aborted) {
        const index = next++;
        const command = commands[index] as Command;
        try {
          results[index] = await this.perform(command, batch.signal);
        } catch (e) {
          if (firstError === null && !(e instanceof CancelledError && !signal.aborted && batch.signal.aborted)) {
            firstError = e;
          }
          batch.abort(new CancelledError(`cancelled: ${messageOf(e)}`));
        }
      }
    };
    const width = Math.max(1, Math.min(this.options.parallelism, commands.length));
    await Promise.all(Array.from({ length: width }, worker)).finally(() => batch.dispose());
    if (firstError !== null) throw firstError;
    throwIfAborted(signal);
    return results;
  }

  private async perform(command: Command, signal: AbortSignal): Promise<CommandResult> {
    switch (command.kind) {
      case 'CreateNode':
        return createNode(this.ctx, command.node, signal);
      case 'DropNode':
        try {
          await dropInstance(this.ctx, command.record, command.reason);
        } catch (e) {
          if (!(e instanceof DropFailedError)) throw e;
          this.ctx.log.warn({ node_id: command.record.node_id }, e.message);
        }
        return null;
      case 'CreateInfrastructure':
        for (const manager of await this.managersOf(command.infraId)) await manager.createInfrastructure(command.infraId);
        await this.ctx.events.emit(command.infraId, 'infrastart');
        return null;
      case 'DropInfrastructure':
        for (const manager of await this.managersOf(command.infraId)) {
          await manager.dropInfrastructure(command.infraId).catch((e: unknown) => this.ctx.log.warn(messageOf(e)));
        }
        await this.ctx.events.emit(command.infraId, 'infradrop');
        return null;
    }
  }

  /** Distinct config managers used by the infrastructure's node types (every implementation). */
  private async managersOf(infraId: string) {
    const description = await this.ctx.store.getInfrastructure(infraId);
    const sections = new Map<string, NodeDefinition['config_management']>();
    for (const type of new Set(description?.nodes.map((n) => n.type) ?? [])) {
      for (const def of await this.ctx.store.getNodeDefinitions(type)) {
        const section = def.config_management ?? { type: 'dummy' };
        sections.set(JSON.stringify(section), section);
      }
    }
    return Promise.all([...sections.values()].map((s) => this.ctx.drivers.managerFor(s)));
  }
}
