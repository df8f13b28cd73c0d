import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from '../../../src/errors.js';
import { renderHealthCheckStrings } from '../../../src/resolution/health-templates.js';

const ctx = {
  ip: '10.0.0.7',
  node_id: 'n-1',
  variables: { db: { name: 'wordpress', user: 'wp', pass: "p'w" } },
  instance_data: { infra_id: 'inf-1', node_description: { name: 'mysql-server' } },
};

test('urls and mysqldbs strings are rendered with ip, node_id, variables and instance_data', () => {
  const out = renderHealthCheckStrings(
    {
      ping: true,
      urls: ['http://{{ip}}:5000/x', 'http://{{ ip }}/{{ node_id }}/{{ instance_data.infra_id }}'],
      mysqldbs: [{ name: '{{variables.db.name}}', user: '{{variables.db.user}}', pass: '{{variables.db.pass}}' }],
    },
    ctx,
  );
  assert.deepEqual(out.urls, ['http://10.0.0.7:5000/x', 'http://10.0.0.7/n-1/inf-1']);
  assert.deepEqual(out.mysqldbs, [{ name: 'wordpress', user: 'wp', pass: "p'w" }]);
});

test('infra_id and name are available too (Occopus lacks them)', () => {
  const out = renderHealthCheckStrings({ urls: ['http://{{ip}}/{{infra_id}}/{{name}}'] }, ctx);
  assert.deepEqual(out.urls, ['http://10.0.0.7/inf-1/mysql-server']);
});

test('no urls or mysqldbs gives empty lists', () => {
  assert.deepEqual(renderHealthCheckStrings({ ping: false }, ctx), { urls: [], mysqldbs: [] });
});

test('getip is not available at check time, and the error names the field', () => {
  assert.throws(
    () => renderHealthCheckStrings({ urls: ["http://{{ getip('x') }}/"] }, ctx),
    (e: unknown) => e instanceof TemplateError && e.message.includes("health_check.urls[0] of node 'mysql-server'"),
  );
});
