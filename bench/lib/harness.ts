/**
 * An in-process engine for the benchmarks: a private directory with a config file and node
 * definitions, the library API on top (`setup`, `createEngine`), and infrastructure descriptions of
 * any width × depth on the `dummy` driver. Nothing of the developer's ~/.occopus is read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { setup, type OccopusApp } from '../../src/api/setup.js';
import { createEngine, type Engine } from '../../src/api/engine.js';
import { importNodeDefinitions } from '../../src/api/import.js';

export const NODE_TYPE = 'bench_node';

export interface EngineSettings {
  strategy?: 'sequential' | 'parallel';
  parallelism?: number;
  /** Store URL; `memory:` unless given. */
  store?: string;
}

export interface DummyTimes {
  /** Seconds the dummy cloud takes to create an instance. */
  create: number;
  /** Seconds from created to ready. */
  ready: number;
  /** Give the nodes a small cloud-init contextualisation (templates rendered per instance). */
  cloudInit?: boolean;
}

export interface BenchEngine {
  dir: string;
  app: OccopusApp;
  engine: Engine;
  /** Writes an infrastructure description of `width` nodes per level and `depth` levels; returns its path. */
  writeInfra(width: number, depth: number, options?: { instances?: number; name?: string }): string;
  close(): Promise<void>;
}

/** The node definition every benchmark node uses: a dummy VM, no probes, optionally a small cloud-init. */
export function nodeDefinitionFile(times: DummyTimes): Record<string, unknown> {
  const cloudInit = {
    type: 'cloudinit',
    context_template: {
      write_files: [{ path: '/etc/occopus-node', content: '{{ node_id }} of {{ infra_id }}' }],
      runcmd: ['echo {{ variables.greeting }} from {{ node_id }}'],
    },
  };
  return {
    [`node_def:${NODE_TYPE}`]: [
      {
        resource: { type: 'dummy', create_delay: times.create, ready_delay: times.ready },
        ...(times.cloudInit ? { contextualisation: cloudInit } : {}),
        // "Answered at once": no ping, no ports, no urls.
        health_check: { ping: false },
      },
    ],
  };
}

/**
 * A description with `depth` levels of `width` nodes; node `l{k}n{i}` depends on `l{k-1}n{i}`, so
 * the compiler's topological levels are exactly the bench's levels.
 */
export function infraDescription(width: number, depth: number, options: { instances?: number; name?: string } = {}): Record<string, unknown> {
  const nodes: Record<string, unknown>[] = [];
  const dependencies: [string, string][] = [];
  for (let level = 0; level < depth; level++) {
    for (let i = 0; i < width; i++) {
      const name = `l${level}n${i}`;
      nodes.push({
        name,
        type: NODE_TYPE,
        ...(options.instances !== undefined ? { scaling: { min: options.instances, max: options.instances } } : {}),
      });
      if (level > 0) dependencies.push([name, `l${level - 1}n${i}`]);
    }
  }
  return {
    infra_name: options.name ?? `bench-${width}x${depth}`,
    user_id: 'bench@example.com',
    variables: { greeting: 'hello' },
    nodes,
    ...(dependencies.length ? { dependencies } : {}),
  };
}

export async function benchEngine(times: DummyTimes, settings: EngineSettings = {}): Promise<BenchEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'occopus-bench-'));
  const cfg = join(dir, 'occopus_config.yaml');
  writeFileSync(
    cfg,
    stringify({
      engine: {
        strategy: settings.strategy ?? 'parallel',
        parallelism: settings.parallelism ?? 10,
      },
      logging: { level: 'silent' },
    }),
  );
  const nodes = join(dir, 'node_definitions.yaml');
  writeFileSync(nodes, stringify(nodeDefinitionFile(times)));
  const app = await setup({ cfg, env: {}, cwd: dir, user: 'bench', store: settings.store ?? 'memory:' });
  await importNodeDefinitions(nodes, app.store);
  const engine = createEngine(app);
  // A bench that fails half-way exits without close(): its files go anyway.
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  let count = 0;
  return {
    dir,
    app,
    engine,
    writeInfra(width, depth, options = {}) {
      const file = join(dir, `infra-${width}x${depth}-${++count}.yaml`);
      writeFileSync(file, stringify(infraDescription(width, depth, options)));
      return file;
    },
    async close() {
      await engine.close();
      await app.close();
      process.off('exit', removeDir);
      removeDir();
    },
  };
}
