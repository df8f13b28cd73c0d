/**
 * Benchmark 2: the steady-state cost of maintenance. One infrastructure of 10 node types holding
 * 100, 1,000 or 10,000 ready dummy instances whose health checks are answered at once (no ping, no
 * ports, no urls); we time one full enactor pass (upkeep, scaling, report), CPU and wall clock.
 *
 * One instance per node type is built through the engine; the rest are copies of its records with
 * fresh ids and addresses, written straight into the store and the dummy cloud, because building
 * 10,000 instances one by one is not what is measured here.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { buildInfrastructure } from '../src/api/infrastructure.js';
import { DUMMY_NAMESPACE, type DummyInstanceRecord } from '../src/drivers/dummy/index.js';
import type { JsonObject } from '../src/descriptors/types.js';
import type { InstanceRecord } from '../src/store/store.js';
import { benchEngine, type BenchEngine } from './lib/harness.js';
import { progress, runAsScript, type BenchResult, type BenchRow } from './lib/result.js';
import { fixed, mean, measure } from './lib/stats.js';

export const GOAL_CPU_MS_PER_1000 = 50;
const NODE_TYPES = 10;

export interface PassCost {
  instances: number;
  store: string;
  passes: number;
  cpu_ms: number;
  wall_ms: number;
  cpu_ms_per_1000: number;
}

function addressOf(i: number): string {
  // 10.x.y.z: unique per instance, never contacted (no probes run).
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** Builds one instance per node type, then fills every node type up to `perNode` copies. */
async function seed(bench: BenchEngine, perNode: number): Promise<string> {
  const { store } = bench.app;
  const file = bench.writeInfra(NODE_TYPES, 1, { name: 'steady-state' });
  const built = await buildInfrastructure(bench.engine, file, { strategy: 'parallel', signal: new AbortController().signal });
  const infraId = built.infra_id;
  const description = await store.getInfrastructure(infraId);
  if (!description) throw new Error('the seeded infrastructure vanished');
  for (const node of description.nodes) node.scaling = { min: perNode, max: perNode };
  await store.putInfrastructure(description);
  await store.setInfraMeta(infraId, 'targets', Object.fromEntries(description.nodes.map((n) => [n.name, perNode])));

  const templates = await store.listInstances(infraId);
  let counter = 1;
  const now = Date.now();
  for (const template of templates) {
    const cloud = (await store.kvGet(DUMMY_NAMESPACE, template.instance_id as string)) as unknown as DummyInstanceRecord;
    for (let i = 1; i < perNode; i++) {
      const nodeId = randomUUID();
      const instanceId = `dummy-${randomUUID()}`;
      const address = addressOf(counter++);
      const data = structuredClone(template.data) as JsonObject & { driver_data: JsonObject; addresses: JsonObject };
      data.driver_data = { address };
      data.addresses = { public: [address], private: [address] };
      const record: InstanceRecord = { ...template, node_id: nodeId, instance_id: instanceId, created_at: now + counter, data };
      await store.insertInstance(record);
      const copy: DummyInstanceRecord = { ...cloud, instance_id: instanceId, node_id: nodeId, address, ready_at: now - 1000 };
      await store.kvPut(DUMMY_NAMESPACE, instanceId, copy as unknown as JsonObject);
    }
  }
  return infraId;
}

export async function passCost(
  total: number,
  storeKind: 'memory' | 'sqlite',
  passes: number,
  hooks: { beforePasses?: () => Promise<void>; afterPasses?: () => Promise<void> } = {},
): Promise<PassCost> {
  const perNode = Math.round(total / NODE_TYPES);
  const bench = await benchEngine({ create: 0, ready: 0 }, { store: 'memory:' });
  // The sqlite store gets its own file in the bench directory (the harness engine used memory: to build).
  const target = storeKind === 'sqlite' ? await benchEngine({ create: 0, ready: 0 }, { store: `sqlite:${join(bench.dir, 'bench.db')}` }) : bench;
  try {
    const infraId = await seed(target, perNode);
    const enactor = target.engine.enactor('parallel');
    const signal = new AbortController().signal;
    // The first passes after seeding store the first report and warm the JIT: not steady state.
    const first = await enactor.makeAPass(infraId, signal);
    await enactor.makeAPass(infraId, signal);
    const count = Object.values(first.report.nodes).reduce((n, node) => n + Object.keys(node.instances).length, 0);
    if (!first.ready || count !== perNode * NODE_TYPES) throw new Error(`expected ${perNode * NODE_TYPES} ready instances, the pass saw ${count}`);
    const cpu: number[] = [];
    const wall: number[] = [];
    await hooks.beforePasses?.();
    for (let i = 0; i < passes; i++) {
      const m = await measure(() => enactor.makeAPass(infraId, signal));
      if (!m.value.ready) throw new Error('an instance stopped being ready during the benchmark');
      cpu.push(m.cpuMs);
      wall.push(m.wallMs);
    }
    await hooks.afterPasses?.();
    const instances = perNode * NODE_TYPES;
    // The mean, not the median: garbage collection is part of the cost and falls on some passes only.
    const cpuMs = mean(cpu);
    return { instances, store: storeKind, passes, cpu_ms: cpuMs, wall_ms: mean(wall), cpu_ms_per_1000: (cpuMs / instances) * 1000 };
  } finally {
    if (target !== bench) await target.close();
    await bench.close();
  }
}

export async function maintenanceBench(options: { quick: boolean }): Promise<BenchResult> {
  const started = Date.now();
  const sizes = options.quick ? [100, 1000] : [100, 1000, 10000];
  const rows: BenchRow[] = [];
  const results: PassCost[] = [];
  // A throw-away run loads every module and warms the JIT.
  await passCost(100, 'memory', 2);
  for (const storeKind of ['memory', 'sqlite'] as const) {
    for (const n of sizes) {
      const passes = n >= 10000 ? 6 : n >= 1000 ? 20 : 40;
      progress(`maintenance pass over ${n} instances (${storeKind} store, ${passes} passes)`);
      const cost = await passCost(n, storeKind, passes);
      results.push(cost);
      // Linear growth: ten times the instances cost ten times the CPU.
      const previous = results.find((r) => r.store === storeKind && r.instances * 10 === n);
      const growth = previous ? cost.cpu_ms / previous.cpu_ms : null;
      rows.push({
        case: `${n} instances, ${storeKind} store`,
        result:
          `${fixed(cost.cpu_ms, 1)} ms CPU, ${fixed(cost.wall_ms, 1)} ms wall per pass = ${fixed(cost.cpu_ms_per_1000, 1)} ms CPU / 1,000` +
          (growth !== null ? `; ×${fixed(growth, 1)} for 10× the instances` : ''),
        goal: `< ${GOAL_CPU_MS_PER_1000} ms CPU / 1,000`,
        met: cost.cpu_ms_per_1000 < GOAL_CPU_MS_PER_1000,
        data: { ...cost, growth_per_10x: growth },
      });
    }
  }
  return {
    id: 'maintenance',
    title: 'Steady-state maintenance pass',
    rows,
    notes: [
      `${NODE_TYPES} node types, every instance ready, health checks answered at once; mean of 40, 20 and 6 passes after 2 warm-up passes (CPU includes garbage collection)`,
      'linear growth is ×10 for 10× the instances',
    ],
    elapsed_s: (Date.now() - started) / 1000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runAsScript((args) => maintenanceBench({ quick: args.quick }));
}
