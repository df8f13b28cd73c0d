/** The seed's library API (spec/seed-api.rst) on the dummy cloud, in-process. */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  setup,
  createEngine,
  InfrastructureManager,
  InfrastructureIDTakenException,
  InfrastructureIDNotFoundException,
  ConflictError,
  type OccopusApp,
  type Engine,
} from '../../../src/api/index.js';
import { eventually } from '../../helpers/local-env.js';

const dir = mkdtempSync(join(tmpdir(), 'occopus-api-'));
let app: OccopusApp;
let engine: Engine;

after(async () => {
  await engine?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const description = `
infra_name: api-test
user_id: tester
nodes:
  - &A {name: a, type: api_node}
  - &B {name: b, type: api_node, scaling: {min: 2, max: 4}}
dependencies:
  - [*B, *A]
`;

describe('InfrastructureManager', () => {
  test('add compiles, stores and maintains; get, detach and tear_down behave as documented', async () => {
    app = await setup({ store: 'memory:', env: {}, cwd: dir, user: 'tester' });
    app.configuration.engine.enactor_interval = 0.1;
    app.configuration.engine.poll_interval = 0.05;
    await app.store.importNodeDefinitions({ api_node: [{ resource: { type: 'dummy' }, health_check: { ping: false } }] });
    engine = createEngine(app);
    const manager = new InfrastructureManager(engine, 'parallel');

    const infraId = await manager.add(description);
    assert.match(infraId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(manager.list(), [infraId]);
    const process = manager.get(infraId);
    assert.equal(process.infraId, infraId);
    await eventually(async () => (await app.store.listInstances(infraId)).filter((r) => r.lifecycle === 'created').length === 3, 10_000, 'the build');

    assert.throws(() => manager.start_provisioning(infraId), InfrastructureIDTakenException);
    await assert.rejects(manager.tear_down(infraId), ConflictError);

    assert.equal(await manager.detach(infraId), infraId);
    assert.throws(() => manager.get(infraId), InfrastructureIDNotFoundException);
    await assert.rejects(manager.stop_provisioning(infraId), InfrastructureIDNotFoundException);

    // Attached again, it maintains what is stored: a scaling request is carried out.
    manager.attach(infraId);
    await app.store.addScalingRequests(infraId, [{ node: 'b', kind: 'create', count: 1 }]);
    await eventually(async () => (await app.store.listInstances(infraId)).filter((r) => r.node_name === 'b').length === 3, 10_000, 'the scale-up');
    await manager.stopAll();

    await manager.tear_down(infraId);
    assert.equal(await app.store.getInfrastructure(infraId), null);
    assert.deepEqual(await app.store.listInstances(infraId), []);
  });

  test('submit_infrastructure refuses import tags in a description given as text', async () => {
    const manager = new InfrastructureManager(engine);
    await assert.rejects(
      manager.submit_infrastructure('infra_name: x\nuser_id: y\nnodes: !yaml_import {url: "file:///etc/passwd"}\n'),
      /yaml_import/,
    );
  });
});
