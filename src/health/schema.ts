/**
 * `health_check` section (formats §3.6 with the fixes of §10.8): every `mysqldbs` entry is checked,
 * booleans are neither ports nor timeouts, an empty list is fine. `type` may be omitted; it is never
 * inserted into the user's data. Defaults (ping on, timeout 600 s) are applied when checking health.
 */
import { z } from 'zod';
import { flag, nonNegativeSeconds, port, text } from '../drivers/schema-kit.js';

export const healthCheckDefaults = { ping: true, ports: [], urls: [], mysqldbs: [], timeout: 600 } as const;

const mysqlDb = z.strictObject(
  { name: text(), user: text(), pass: text() },
  { error: 'must be a mapping with name, user and pass' },
);

export const healthCheckSchema = z.strictObject(
  {
    type: z.literal('basic', { error: "must be 'basic' (the only health-check type)" }).optional(),
    ping: flag().optional().meta({ default: healthCheckDefaults.ping }),
    ports: z.array(port(), { error: 'must be a list of port numbers' }).optional(),
    urls: z.array(text(), { error: 'must be a list of URLs' }).optional(),
    mysqldbs: z.array(mysqlDb, { error: 'must be a list of {name, user, pass} mappings' }).optional(),
    timeout: nonNegativeSeconds().optional().meta({ default: healthCheckDefaults.timeout }),
  },
  { error: 'must be a mapping' },
);

export type HealthCheck = z.infer<typeof healthCheckSchema>;
