import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from '../../../src/config/redact.js';

const SECRETS = [
  'AKIAEXAMPLE',
  'wJalrXUtnFEMI',
  'nova-password',
  'app-cred-secret',
  'azure-client-secret',
  'sigma-pass',
  'bearer-abc',
  'MIIEowIBAAKCAQEA',
  'a1b2c3-api',
  '424242',
  'weird-shape-secret',
];

const sample = {
  resource: [
    { type: 'ec2', endpoint: 'https://ec2.example', auth_data: { accesskey: 'AKIAEXAMPLE', secretkey: 'wJalrXUtnFEMI' } },
    { type: 'nova', auth_data: { username: 'alice', password: 'nova-password' } },
    { type: 'nova', auth_data: { type: 'application_credential', id: 'x', secret: 'app-cred-secret' } },
    { type: 'azure_vm', auth_data: { tenant_id: 't', client_id: 'c', client_secret: 'azure-client-secret' } },
    { type: 'cloudsigma', auth_data: { email: 'a@b', password: 'sigma-pass' } },
    { type: 'odd', auth_data: { nested: { deep: ['weird-shape-secret'] } } },
  ],
  headers: { Authorization: 'bearer-abc' },
  note: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n',
  service: { api_key: 'a1b2c3-api', db: { Password: 424242 } },
};

describe('redactSecrets', () => {
  it('leaves no secret in the serialised result', () => {
    const out = JSON.stringify(redactSecrets(sample));
    for (const secret of SECRETS) assert.ok(!out.includes(secret), `leaked ${secret}: ${out}`);
  });

  it('masks every auth_data value but keeps filters, key names and non-secret fields', () => {
    const out = redactSecrets(sample) as typeof sample;
    assert.deepEqual(out.resource[0], {
      type: 'ec2',
      endpoint: 'https://ec2.example',
      auth_data: { accesskey: '***', secretkey: '***' },
    });
    assert.deepEqual(out.resource[1]?.auth_data, { username: '***', password: '***' });
    assert.deepEqual(out.resource[5]?.auth_data, { nested: '***' });
    assert.equal(out.headers.Authorization, '***');
    assert.equal(out.note, '***');
    assert.deepEqual(out.service, { api_key: '***', db: { Password: '***' } });
  });

  it('does not change its input', () => {
    const input = { auth_data: { password: 'p' }, token: 't' };
    redactSecrets(input);
    assert.deepEqual(input, { auth_data: { password: 'p' }, token: 't' });
  });

  it('keeps paths to secrets, nulls and booleans visible', () => {
    assert.deepEqual(redactSecrets({ rest: { token_file: '/etc/occopus/token', cors_origins: [] }, password: null, secret_set: true }), {
      rest: { token_file: '/etc/occopus/token', cors_origins: [] },
      password: null,
      secret_set: true,
    });
  });

  it('handles scalars, shared references and cycles', () => {
    assert.equal(redactSecrets('plain'), 'plain');
    assert.equal(redactSecrets(3), 3);
    const shared = { password: 'shared-pass' };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic['self'] = cyclic;
    const out = redactSecrets(cyclic) as Record<string, unknown>;
    assert.deepEqual(out['a'], { password: '***' });
    assert.equal(out['self'], out);
  });
});
