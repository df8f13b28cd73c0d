/**
 * A separate, short-lived OS process that creates one local instance and exits, for the test that
 * instances outlive the command that built them (local.test.ts). Prints the created instance as
 * one JSON line.
 *
 *   local-child.ts <base_dir> <sqlite file> <address_range> <infra_id> <node_id>
 */
import { defaultConfig } from '../../src/config/config.js';
import localDriver from '../../src/drivers/local/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { dockerNode, recordingLog } from './helpers.js';

const [baseDir, dbFile, range, infraId, nodeId] = process.argv.slice(2);
if (!baseDir || !dbFile || !range || !infraId || !nodeId) throw new Error('usage: local-child.ts <base> <db> <range> <infra> <node>');

const store = SqliteStore.open(dbFile, 'tester');
const config = structuredClone(defaultConfig);
config.drivers.local = { base_dir: baseDir, address_range: range, stop_grace: 1 };
const resource = { type: 'local' };
const handler = localDriver.createHandler(resource, { auth: null, store, config, log: recordingLog() });
const created = await handler.create(dockerNode(resource, infraId, nodeId, ['sleep', '300']), {
  idempotencyKey: nodeId,
  signal: new AbortController().signal,
});
await store.close();
process.stdout.write(`${JSON.stringify(created)}\n`);
// No process.exit(): the event loop must drain by itself, or the instance would keep this command alive.
