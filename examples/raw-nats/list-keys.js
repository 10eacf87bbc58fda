// examples/raw-nats/list-keys.js: log in and send one signed request with only @nats-io/transport-node and node:crypto (docs/auth.md).
// Run from the repo root: node examples/raw-nats/list-keys.js   (EKM_CREDENTIALS, default .ekm/admin.credentials)
const { connect, headers } = require('@nats-io/transport-node');
const { createHash, createHmac, createPrivateKey, randomBytes, sign } = require('node:crypto');
const { readFileSync } = require('node:fs');

const cred = JSON.parse(readFileSync(process.env.EKM_CREDENTIALS ?? '.ekm/admin.credentials', 'utf8'));
const b64u = (b) => Buffer.from(b).toString('base64url');

(async () => {
  const nc = await connect({ servers: process.env.EKM_NATS_URL ?? cred.natsUrl ?? 'nats://127.0.0.1:4222' });
  // 1. Login: Ed25519 proof over "ekm-login-v1\n<principalId>\n<credentialId>\n<timestamp>\n<nonce>".
  const timestamp = Date.now();
  const nonce = b64u(randomBytes(16));
  const key = createPrivateKey({ key: Buffer.from(cred.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  const proof = `ekm-login-v1\n${cred.principalId}\n${cred.credentialId}\n${timestamp}\n${nonce}`;
  const login = (await nc.request('ekm.v1.policy.login', JSON.stringify({
    principalId: cred.principalId, credentialId: cred.credentialId, timestamp, nonce, signature: b64u(sign(null, Buffer.from(proof), key)),
  }))).json();
  if (!login.ok) throw new Error(`${login.error.code}: ${login.error.message}`);
  const { sessionToken, sessionKey } = login.data;

  // 2. A signed request: HMAC-SHA256(sessionKey, "ekm-req-v2\n<subject>\n<ts>\n<nonce>\n<request id>\n<sha256 hex of body>").
  const subject = 'ekm.v1.keys.list-keys';
  const body = Buffer.from(JSON.stringify({ limit: 5 }));
  const ts = String(Date.now());
  const n = b64u(randomBytes(16));
  const requestId = `raw-${b64u(randomBytes(9))}`;
  const canonical = ['ekm-req-v2', subject, ts, n, requestId, createHash('sha256').update(body).digest('hex')].join('\n');
  const h = headers();
  h.set('Ekm-Request-Id', requestId);
  h.set('Ekm-Session', sessionToken);
  h.set('Ekm-Timestamp', ts);
  h.set('Ekm-Nonce', n);
  h.set('Ekm-Signature', b64u(createHmac('sha256', Buffer.from(sessionKey, 'base64url')).update(canonical).digest()));
  const reply = (await nc.request(subject, body, { headers: h, timeout: 5000 })).json();
  console.log(reply.ok ? reply.data.keys.map((k) => `${k.keyId} ${k.tenant} ${k.status}`).join('\n') : reply.error);
  await nc.close();
})();
