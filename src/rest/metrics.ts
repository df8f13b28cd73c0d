/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4). Pass counts, errors and
 * durations are collected from the maintenance processes' callbacks; infrastructure and instance
 * gauges are read from the store when scraped (instances from each infrastructure's last observed
 * report, so a scrape never runs a health check).
 */
import type { MaintenanceEvents } from '../api/maintenance.js';
import type { InfraReport } from '../enactor/report.js';
import type { Store } from '../store/store.js';

/** Seconds; maintenance passes range from milliseconds (nothing to do) to minutes (slow creates). */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Family {
  readonly samples = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const s = this.samples.get(key);
    if (s) s.value += by;
    else this.samples.set(key, { labels, value: by });
  }

  set(labels: Labels, value: number): void {
    this.samples.set(labelText(labels), { labels, value });
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const s of this.samples.values()) out.push(`${this.name}${labelText(s.labels)} ${formatNumber(s.value)}`);
  }
}

class Histogram {
  private readonly counts = DURATION_BUCKETS.map(() => 0);
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(seconds: number): void {
    DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
    this.sum += seconds;
    this.count++;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    DURATION_BUCKETS.forEach((le, i) => out.push(`${this.name}_bucket{le="${le}"} ${this.counts[i] ?? 0}`));
    out.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
  }
}

export class RestMetrics {
  private readonly passes = new Family('occopus_maintenance_passes_total', 'counter', 'Maintenance passes completed, per infrastructure.');
  private readonly passErrors = new Family('occopus_maintenance_pass_errors_total', 'counter', 'Maintenance passes that failed, per infrastructure.');
  private readonly durations = new Histogram('occopus_maintenance_pass_duration_seconds', 'Duration of maintenance passes (completed or failed).');
  private readonly requests = new Family('occopus_http_requests_total', 'counter', 'HTTP requests answered, by method, route and status.');
  private openStreams = 0;

  /** Callbacks for the maintenance process of one infrastructure. */
  hooks(infraId: string): MaintenanceEvents {
    return {
      onPass: (_result, durationMs) => {
        this.passes.inc({ infra_id: infraId });
        this.durations.observe(durationMs / 1000);
      },
      onError: (_error, durationMs) => {
        this.passErrors.inc({ infra_id: infraId });
        this.durations.observe(durationMs / 1000);
      },
    };
  }

  /** Forget the per-infrastructure series of one that was destroyed. */
  forget(infraId: string): void {
    for (const f of [this.passes, this.passErrors]) f.samples.delete(labelText({ infra_id: infraId }));
  }

  request(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  streamOpened(): void {
    this.openStreams++;
  }

  streamClosed(): void {
    this.openStreams--;
  }

  /**
   * `maintainers`: the infrastructures this service acts on (it holds their leases) and those its
   * maintainers wait for (another process holds the lease), read when scraped so that they are
   * never stale.
   */
  async render(store: Store, maintainers: { active: string[]; standby: string[] }): Promise<string> {
    const out: string[] = [];
    const ids = await store.listInfrastructures();
    gauge(out, 'occopus_infrastructures', 'Infrastructures in the store.', ids.length);
    gauge(
      out,
      'occopus_infrastructures_maintained',
      'Infrastructures this service maintains (it holds their maintenance leases).',
      maintainers.active.length,
    );
    gauge(
      out,
      'occopus_infrastructures_standby',
      'Infrastructures whose maintainer in this service waits for the lease another process holds (it takes over if that one dies).',
      maintainers.standby.length,
    );

    const instances = new Family('occopus_instances', 'gauge', "Instances by state, from each infrastructure's last observed report.");
    for (const id of ids) {
      const report = (await store.getInfraMeta(id, 'report')) as InfraReport | null;
      for (const [node, entry] of Object.entries(report?.nodes ?? {})) {
        for (const inst of Object.values(entry.instances)) instances.inc({ infra_id: id, node, state: inst.state });
      }
    }
    instances.render(out);
    this.passes.render(out);
    this.passErrors.render(out);
    this.durations.render(out);
    const waiting = new Family(
      'occopus_maintainer_waiting',
      'gauge',
      "1 while this service's maintainer of an infrastructure waits for the lease another process holds, 0 while it holds it.",
    );
    for (const id of maintainers.active) waiting.set({ infra_id: id }, 0);
    for (const id of maintainers.standby) waiting.set({ infra_id: id }, 1);
    waiting.render(out);
    gauge(out, 'occopus_event_streams', 'Open event streams.', this.openStreams);
    this.requests.render(out);
    return `${out.join('\n')}\n`;
  }
}

function gauge(out: string[], name: string, help: string, value: number): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${formatNumber(value)}`);
}
