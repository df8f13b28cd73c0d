/**
 * Benchmarks 3 and 5, on one running REST service (`occopus-rest-service`, the built CLI):
 *
 * 3. Footprint: peak RSS of the service while it builds and then maintains 100 infrastructures of 20
 *    dummy instances each (submitted over its API), with its default settings.
 * 5. Throughput: requests per second and latency percentiles of `GET /infrastructures/{id}` with 50
 *    concurrent keep-alive clients on loopback, while the service keeps maintaining those 100.
 */
import { stringify } from 'yaml';
import { progress, runAsScript, type BenchResult } from './lib/result.js';
import { httpClient, startService, type RunningService } from './lib/service.js';
import { fixed, median, percentile } from './lib/stats.js';

export const GOAL_PEAK_MIB = 250;
const CLIENTS = 50;

const NODE_DEFINITIONS = stringify({
  'node_def:bench_vm': [{ resource: { type: 'dummy', create_delay: 0.2, ready_delay: 0.5 }, health_check: { ping: false } }],
});

/** 20 instances in two levels: 5 `db`, then 15 `app` that depend on them. */
function infraYaml(i: number): string {
  return stringify({
    infra_name: `footprint-${i}`,
    user_id: 'bench@example.com',
    nodes: [
      { name: 'db', type: 'bench_vm', scaling: { min: 5, max: 10 } },
      { name: 'app', type: 'bench_vm', scaling: { min: 15, max: 30 } },
    ],
    dependencies: [['app', 'db']],
  });
}

function readyCount(reportText: string): number {
  const report = JSON.parse(reportText) as Record<string, { instances?: Record<string, { state: string }> }>;
  let ready = 0;
  for (const [key, node] of Object.entries(report)) {
    if (key.startsWith('_')) continue;
    for (const instance of Object.values(node.instances ?? {})) if (instance.state === 'ready') ready++;
  }
  return ready;
}

async function footprint(service: RunningService, infras: number, perInfra: number, steadyMs: number): Promise<{ ids: string[]; rows: BenchResult['rows']; notes: string[] }> {
  const client = httpClient(service.url, 8);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(service.memory().rssMiB), 250);
  try {
    const idle = service.memory();
    const imported = await client.call('PUT', '/nodedefinitions', NODE_DEFINITIONS);
    if (imported.status !== 200) throw new Error(`PUT /nodedefinitions: ${imported.status} ${imported.body}`);

    const t0 = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < infras; i++) {
      const r = await client.call('POST', '/infrastructures/', infraYaml(i));
      if (r.status !== 200) throw new Error(`POST /infrastructures/: ${r.status} ${r.body}`);
      ids.push((JSON.parse(r.body) as { infraid: string }).infraid);
    }
    progress(`footprint: ${infras} infrastructures submitted in ${fixed((Date.now() - t0) / 1000, 1)} s; waiting until ${infras * perInfra} instances are ready`);

    const deadline = Date.now() + 240_000;
    let ready = 0;
    for (;;) {
      const counts = await Promise.all(ids.map(async (id) => readyCount((await client.call('GET', `/infrastructures/${id}`)).body)));
      ready = counts.reduce((a, b) => a + b, 0);
      if (ready >= infras * perInfra) break;
      if (Date.now() > deadline) throw new Error(`only ${ready} of ${infras * perInfra} instances ready after 240 s:\n${service.stderr()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const builtS = (Date.now() - t0) / 1000;
    const afterBuild = service.memory();
    progress(`footprint: all ready after ${fixed(builtS, 1)} s (RSS ${fixed(afterBuild.rssMiB, 0)} MiB); maintaining for ${steadyMs / 1000} s`);
    await new Promise((r) => setTimeout(r, steadyMs));
    const end = service.memory();
    const steady = samples.slice(-Math.max(1, Math.floor(steadyMs / 250)));
    return {
      ids,
      rows: [
        {
          case: `${infras} infrastructures × ${perInfra} instances, built and maintained`,
          result: `peak RSS ${fixed(end.peakMiB, 0)} MiB (idle ${fixed(idle.rssMiB, 0)}, steady ${fixed(median(steady), 0)} MiB)`,
          goal: `< ${GOAL_PEAK_MIB} MB`,
          met: end.peakMiB < GOAL_PEAK_MIB,
          data: {
            infrastructures: infras,
            instances: infras * perInfra,
            peak_rss_mib: end.peakMiB,
            idle_rss_mib: idle.rssMiB,
            steady_rss_mib: median(steady),
            build_all_s: builtS,
          },
        },
      ],
      notes: [`all ${infras * perInfra} instances ready ${fixed(builtS, 1)} s after the first POST; then ${steadyMs / 1000} s of maintenance (default enactor_interval 10 s, --parallelize)`],
    };
  } finally {
    clearInterval(sampler);
    client.close();
  }
}

async function throughput(service: RunningService, ids: string[], durationMs: number): Promise<BenchResult['rows']> {
  const client = httpClient(service.url, CLIENTS);
  try {
    const latencies: number[] = [];
    let errors = 0;
    let measuring = false;
    let stop = false;
    const loop = async (k: number): Promise<void> => {
      let i = k;
      while (!stop) {
        // Spread over the infrastructures, as many users would.
        const id = ids[i++ % ids.length] as string;
        const t = performance.now();
        const r = await client.call('GET', `/infrastructures/${id}`).catch(() => ({ status: 0, body: '' }));
        if (!measuring) continue;
        if (r.status === 200) latencies.push(performance.now() - t);
        else errors++;
      }
    };
    const loops = Array.from({ length: CLIENTS }, (_, k) => loop(k));
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: sockets open, JIT warm
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, durationMs));
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    stop = true;
    await Promise.all(loops);
    const rps = latencies.length / elapsed;
    return [
      {
        case: `GET /infrastructures/{id}, ${CLIENTS} concurrent clients, ${fixed(elapsed, 0)} s`,
        result: `${fixed(rps, 0)} req/s; p50 ${fixed(percentile(latencies, 50), 1)} ms, p99 ${fixed(percentile(latencies, 99), 1)} ms${errors ? `; ${errors} errors` : ''}`,
        goal: '(no goal set)',
        met: errors === 0 ? null : false,
        data: {
          clients: CLIENTS,
          duration_s: elapsed,
          requests: latencies.length,
          errors,
          rps,
          p50_ms: percentile(latencies, 50),
          p90_ms: percentile(latencies, 90),
          p99_ms: percentile(latencies, 99),
          max_ms: Math.max(...latencies),
        },
      },
    ];
  } finally {
    client.close();
  }
}

export async function restBench(options: { quick: boolean }): Promise<BenchResult[]> {
  const started = Date.now();
  const service = await startService({ parallelize: true });
  try {
    const infras = options.quick ? 10 : 100;
    const fp = await footprint(service, infras, 20, options.quick ? 5_000 : 25_000);
    const footprintResult: BenchResult = {
      id: 'footprint',
      title: 'Footprint of the REST service',
      rows: fp.rows,
      notes: [...fp.notes, 'peak RSS is the kernel\'s high-water mark (VmHWM) of the service process'],
      elapsed_s: (Date.now() - started) / 1000,
    };
    const t1 = Date.now();
    progress(`rest: ${CLIENTS} clients for ${options.quick ? 3 : 10} s`);
    const rows = await throughput(service, fp.ids, options.quick ? 3_000 : 10_000);
    const after = service.memory();
    return [
      footprintResult,
      {
        id: 'rest',
        title: 'REST throughput and latency',
        rows,
        notes: [
          `load generator in the bench process (node:http, keep-alive), the service in its own process, both on this machine's cores; ${infras} infrastructures being maintained meanwhile`,
          `service peak RSS after the load: ${fixed(after.peakMiB, 0)} MiB`,
        ],
        elapsed_s: (Date.now() - t1) / 1000,
      },
    ];
  } finally {
    await service.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runAsScript((args) => restBench({ quick: args.quick }));
}
