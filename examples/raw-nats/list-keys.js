// examples/raw-nats/list-keys.js: log in (Ed25519 proof + X25519 agreement, reply checked against the
// pinned service identity), then one signed, sealed GenerateDataKey and ListKeys, with only
// @nats-io/transport-node and node:crypto (docs/auth.md).
// Run from the repo root after `npm run up`: node examples/raw-nats/list-keys.js
//   EKM_CREDENTIALS (default .ekm/admin.credentials), EKM_NATS_CREDENTIALS (default stack.json natsCredentials),
//   EKM_NATS_TLS_CA (default stack.json natsTlsCa), EKM_NATS_URL (default stack.json natsUrl)
const { connect, headers, nkeyAuthenticator } = require('@nats-io/transport-node');
const c = require('node:crypto');
const { existsSync, readFileSync } = require('node:fs');

const cred = JSON.parse(readFileSync(process.env.EKM_CREDENTIALS ?? '.ekm/admin.credentials', 'utf8'));
const stack = existsSync('.ekm/stack.json') ? JSON.parse(readFileSync('.ekm/stack.json', 'utf8')) : {};
const b64u = (b) => Buffer.from(b).toString('base64url');
const serviceKey = cred.serviceKey ?? stack.serviceKey; // the EKM service identity we trust (pinned)

async function main() {
  // 0. NATS: our own identity (an nkey; we may read only our own inbox) over TLS.
  const natsCreds = JSON.parse(readFileSync(process.env.EKM_NATS_CREDENTIALS ?? stack.natsCredentials, 'utf8'));
  const ca = process.env.EKM_NATS_TLS_CA ?? stack.natsTlsCa;
  const nc = await connect({
    servers: process.env.EKM_NATS_URL ?? stack.natsUrl ?? cred.natsUrl ?? 'nats://127.0.0.1:4222',
    authenticator: nkeyAuthenticator(new TextEncoder().encode(natsCreds.nkeySeed)),
    inboxPrefix: natsCreds.inboxPrefix,
    ...(ca ? { tls: { caFile: ca } } : {}),
  });

  // 1. Login: an ephemeral X25519 key, and an Ed25519 proof over
  //    "ekm-login-v2\n<principalId>\n<credentialId>\n<timestamp>\n<nonce>\n<clientKey>".
  const eph = c.generateKeyPairSync('x25519');
  const clientKey = eph.publicKey.export({ format: 'jwk' }).x;
  const timestamp = Date.now();
  const nonce = b64u(c.randomBytes(16));
  const key = c.createPrivateKey({ key: Buffer.from(cred.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  const proof = `ekm-login-v2\n${cred.principalId}\n${cred.credentialId}\n${timestamp}\n${nonce}\n${clientKey}`;
  const signature = b64u(c.sign(null, Buffer.from(proof), key));
  const login = (await nc.request('ekm.v1.policy.login', JSON.stringify({
    principalId: cred.principalId, credentialId: cred.credentialId, timestamp, nonce, clientKey, signature,
  }), { timeout: 10000 })).json();
  if (!login.ok) throw new Error(`${login.error.code}: ${login.error.message}`);
  const { sessionToken, serverKey, serviceSignature, expiresAt } = login.data;

  // 2. Only the pinned service identity may answer: Ed25519 over
  //    "ekm-login-reply-v2\n<our signature>\n<serverKey>\n<sessionToken>\n<expiresAt>".
  const pin = c.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: serviceKey }, format: 'jwk' });
  const replyMsg = `ekm-login-reply-v2\n${signature}\n${serverKey}\n${sessionToken}\n${expiresAt}`;
  if (!c.verify(null, Buffer.from(replyMsg), pin, Buffer.from(serviceSignature, 'base64url'))) throw new Error('login reply not signed by the pinned EKM service: refusing it');

  // 3. The session key, derived on both sides, never sent:
  //    HKDF-SHA256(X25519(ours, serverKey), salt = clientKey ‖ serverKey, info "ekm-session-key-v2").
  const shared = c.diffieHellman({ privateKey: eph.privateKey, publicKey: c.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: serverKey }, format: 'jwk' }) });
  const salt = Buffer.concat([Buffer.from(clientKey, 'base64url'), Buffer.from(serverKey, 'base64url')]);
  const sessionKey = Buffer.from(c.hkdfSync('sha256', shared, salt, 'ekm-session-key-v2', 32));
  const sealKey = Buffer.from(c.hkdfSync('sha256', sessionKey, Buffer.alloc(0), 'ekm-seal-v1', 32));

  // 4. A signed, sealed request: body = iv ‖ AES-256-GCM(sealKey, JSON) ‖ tag, AAD
  //    "ekm-seal-v1\nrequest\n<subject>\n<request id>"; the HMAC signs the sealed bytes.
  const call = async (subject, body) => {
    const requestId = c.randomUUID();
    const aad = (dir) => Buffer.from(`ekm-seal-v1\n${dir}\n${subject}\n${requestId}`);
    const iv = c.randomBytes(12);
    const enc = c.createCipheriv('aes-256-gcm', sealKey, iv, { authTagLength: 16 });
    enc.setAAD(aad('request'));
    const sealed = Buffer.concat([iv, enc.update(JSON.stringify(body)), enc.final(), enc.getAuthTag()]);
    const ts = String(Date.now());
    const n = b64u(c.randomBytes(16));
    const canonical = ['ekm-req-v2', subject, ts, n, requestId, c.createHash('sha256').update(sealed).digest('hex')].join('\n');
    const h = headers();
    h.set('Ekm-Session', sessionToken);
    h.set('Ekm-Timestamp', ts);
    h.set('Ekm-Nonce', n);
    h.set('Ekm-Signature', b64u(c.createHmac('sha256', sessionKey).update(canonical).digest()));
    h.set('Ekm-Request-Id', requestId);
    h.set('Ekm-Seal', 'v1');
    const m = await nc.request(subject, sealed, { headers: h, timeout: 10000 });
    if (m.headers?.get('Ekm-Seal') !== 'v1') {
      const refused = m.json();
      if (refused.ok) throw new Error('unsealed success reply: not from EKM');
      return refused;
    }
    // The reply opens only under our session, for this subject and request id (else: a forged reply).
    const d = c.createDecipheriv('aes-256-gcm', sealKey, m.data.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(aad('reply'));
    d.setAuthTag(m.data.subarray(m.data.length - 16));
    const plain = Buffer.concat([d.update(m.data.subarray(12, m.data.length - 16)), d.final()]);
    return JSON.parse(plain.toString('utf8'));
  };

  const list = await call('ekm.v1.keys.list-keys', { limit: 5 });
  if (!list.ok) throw new Error(`${list.error.code}: ${list.error.message}`);
  console.log(list.data.keys.map((k) => `${k.keyId} ${k.tenant} ${k.status}`).join('\n') || '(no keys)');
  const first = list.data.keys.find((k) => k.status === 'Enabled');
  if (first) {
    const dk = await call('ekm.v1.keys.generate-data-key', { keyId: first.keyId });
    console.log(dk.ok ? `data key under ${first.keyId}: ${Buffer.from(dk.data.plaintext, 'base64').length} bytes (sealed on the bus)` : dk.error);
  }
  await nc.close();
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
