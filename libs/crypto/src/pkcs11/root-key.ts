import * as pkcs11js from 'pkcs11js';
import { RootConfigInvalidError, RootKeyUnavailableError } from '../errors';

type Handle = pkcs11js.Handle;
/**
 * `isRebuild`: the pool had a working root key before (session rebuild, library re-initialization).
 * Then a missing key is never created: a token that came back empty, a half-restored token directory
 * or a find on an invalidated token (SoftHSM2 answers 0 objects) would otherwise get a second root
 * key, and every KEK wrapped under the first would be lost. It is RootKeyUnavailableError instead.
 */
export type RootKeySpec = { keyLabel: string; keyId: string; createIfMissing: boolean; isRebuild?: boolean };

const REQUIRED_MECHANISMS = ['CKM_AES_KEY_GEN', 'CKM_AES_KEY_WRAP_PAD'] as const;

/** The attributes that make the root key a root of trust; checked on every start, also for keys we did not create. */
const REQUIRED: ReadonlyArray<[name: string, type: number, expected: boolean]> = [
  ['CKA_TOKEN', pkcs11js.CKA_TOKEN, true],
  ['CKA_SENSITIVE', pkcs11js.CKA_SENSITIVE, true],
  ['CKA_EXTRACTABLE', pkcs11js.CKA_EXTRACTABLE, false],
  ['CKA_WRAP', pkcs11js.CKA_WRAP, true],
  ['CKA_UNWRAP', pkcs11js.CKA_UNWRAP, true],
];

/**
 * Finds the AES root key by CKA_LABEL + CKA_ID, or generates it inside the token. Refuses a root
 * key that is extractable or not sensitive, duplicates, and tokens without AES-KWP.
 * TODO: two replicas starting for the very first time can both generate a root key; run the first
 * start alone (or createIfMissing=false with a pre-provisioned key) until a provisioning command exists.
 */
export function findOrCreateRootKey(lib: pkcs11js.PKCS11, session: Handle, spec: RootKeySpec): Handle {
  requireMechanisms(lib, session);
  const id = Buffer.from(spec.keyId, 'utf8');
  const match: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_LABEL, value: spec.keyLabel },
    { type: pkcs11js.CKA_ID, value: id },
  ];
  lib.C_FindObjectsInit(session, match);
  let found: Handle[];
  try {
    found = lib.C_FindObjects(session, 2);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
  if (found.length > 1) throw new RootConfigInvalidError(`more than one root key labelled "${spec.keyLabel}" with that CKA_ID; remove the duplicate`);
  if (found.length === 1) {
    checkAttributes(lib, session, found[0], spec.keyLabel);
    return found[0];
  }
  if (spec.isRebuild) {
    throw new RootKeyUnavailableError(`root key "${spec.keyLabel}" is not in the token any more; not creating another one during recovery`, 'ROOT_KEY_MISSING');
  }
  if (!spec.createIfMissing) throw new RootConfigInvalidError(`root key "${spec.keyLabel}" not found in the token and createIfMissing is false`);
  return lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    ...match,
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_MODIFIABLE, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
  ]);
}

function checkAttributes(lib: pkcs11js.PKCS11, session: Handle, key: Handle, label: string): void {
  const values = lib.C_GetAttributeValue(session, key, REQUIRED.map(([, type]) => ({ type })));
  REQUIRED.forEach(([name, , expected], i) => {
    const v = values[i]?.value;
    const actual = Buffer.isBuffer(v) ? v[0] === 1 : Boolean(v);
    if (actual !== expected) throw new RootConfigInvalidError(`root key "${label}" has ${name}=${actual}; a root key needs ${name}=${expected}`);
  });
}

function requireMechanisms(lib: pkcs11js.PKCS11, session: Handle): void {
  const { slotID } = lib.C_GetSessionInfo(session);
  const supported = new Set(lib.C_GetMechanismList(slotID));
  for (const name of REQUIRED_MECHANISMS) {
    if (!supported.has(pkcs11js[name])) throw new RootConfigInvalidError(`the PKCS#11 token does not support ${name}`);
  }
}
