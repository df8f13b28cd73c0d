/**
 * Masking of credentials before anything reaches a log line, an error message or a REST response.
 * Errs on the side of hiding: a redacted non-secret costs little, a leaked secret costs a lot.
 */

export const REDACTED = '***';

/**
 * Key names whose values are secret, compared without case, `_` or `-` (so `client_secret`,
 * `clientSecret` and `CLIENT-SECRET` are alike).
 */
const SECRET_KEY_PATTERNS: readonly RegExp[] = [
  /pass(word|wd|phrase)?$/, // password, db_passwd, pass
  /secret/, // secret, secretkey, client_secret, secret_access_key
  /token/, // token, access_token, auth_token
  /(access|api|private|client|ssh|signing|encryption|master|account|storage|shared)key$/,
  /^key(material|data|pem)?$/,
  /credential/,
  /^(authorization|auth|cookie|pem|pkcs12|pfx|sessionid)$/,
];

/** Key material is hidden wherever it appears, whatever its key is called. */
const KEY_MATERIAL = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  // `token_file`, `key_path`: where a secret is kept, not the secret; operators need to see it.
  if (/(file|path|dir)$/.test(k)) return false;
  return SECRET_KEY_PATTERNS.some((re) => re.test(k));
}

/**
 * A copy of `value` in which every scalar under a secret-looking key, every value of an `auth_data`
 * mapping and every string holding private-key material is replaced by `'***'`. `null` stays `null`
 * (it tells the reader "not set", which is no secret) and so do booleans. Shared references are copied
 * once; cycles are cut.
 */
export function redactSecrets(value: unknown): unknown {
  return redact(value, false, new WeakMap());
}

function redact(value: unknown, hide: boolean, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return hide || KEY_MATERIAL.test(value) ? REDACTED : value;
  if (typeof value === 'number' || typeof value === 'bigint') return hide ? REDACTED : value;
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return hide ? REDACTED : value.toISOString();
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(redact(item, hide, seen));
    return out;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) {
    if (k === 'auth_data' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      // Every credential a driver reads lives here, so hide each entry whole, whatever its name or shape.
      out[k] = Object.fromEntries(Object.keys(v).map((ak) => [ak, REDACTED]));
    } else {
      out[k] = redact(v, hide || k === 'auth_data' || isSecretKey(k), seen);
    }
  }
  return out;
}
