// Key objects inside the token, and the sealed tokens they leave as:
//   sealed  = base64( gen uint32 BE ‖ type uint8 ‖ C_WrapKey(CKM_AES_KEY_WRAP_PAD, binding, key) )
//   binding = C_DeriveKey(CKM_AES_CBC_ENCRYPT_DATA, master[gen], iv 0, SHA-256(AAD)), an AES-256
//             session key that only wraps and unwraps; AAD is the ref's (or a component's) string,
//             so a token copied to another row unwraps under another key and fails its integrity check.
// Every key made here is a session object, sensitive (its value is never read), destroyed after
// the one operation; the master keys are token objects (hsmMasters.ts). The clear value of a key
// is read only in toClear, the transport door (docs/keys.md, "HSM (PKCS#11)").
import { createDecipheriv, createHash } from 'node:crypto';
import { custodyKeyBytes, custodyKeyTypes, isTdes, VaultError, type CustodyKeyType } from '../keyCustody.ts';
import { P, type AesCbcParams, type Handle, type Template, type Token } from './token.ts';

const KWP_IV = Buffer.from('A65959A6', 'hex');

export interface MasterHandles {
  current(): { gen: number; handle: Handle };
  get(gen: number): Handle | undefined;
}

function keyKindOf(type: CustodyKeyType): Template {
  if (type === 'TDES2') return [{ type: P.CKA_KEY_TYPE, value: P.CKK_DES2 }];
  if (type === 'TDES3') return [{ type: P.CKA_KEY_TYPE, value: P.CKK_DES3 }];
  return [{ type: P.CKA_KEY_TYPE, value: P.CKK_AES }];
}

/** A sensitive session key of `type` that can be wrapped (sealed), check-valued and derived from. */
export function keyTemplate(type: CustodyKeyType): Template {
  return [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    ...keyKindOf(type),
    { type: P.CKA_TOKEN, value: false },
    { type: P.CKA_SENSITIVE, value: true },
    { type: P.CKA_EXTRACTABLE, value: true },
    { type: P.CKA_DERIVE, value: true },
    // The KCV: AES-CMAC (sign) or TDES-ECB (encrypt) of zeros; ECB derivation of longer data.
    { type: P.CKA_SIGN, value: !isTdes(type) },
    { type: P.CKA_ENCRYPT, value: true },
  ];
}

const withLength = (type: CustodyKeyType, t: Template): Template => (isTdes(type) ? t : [...t, { type: P.CKA_VALUE_LEN, value: custodyKeyBytes[type] }]);

export function generateKey(token: Token, type: CustodyKeyType): Handle {
  const mechanism = type === 'TDES2' ? P.CKM_DES2_KEY_GEN : type === 'TDES3' ? P.CKM_DES3_KEY_GEN : P.CKM_AES_KEY_GEN;
  return token.p11.C_GenerateKey(token.session, { mechanism }, withLength(type, keyTemplate(type)));
}

/** A key entered in the clear becomes a session object; `clear` is wiped. */
export function createKey(token: Token, type: CustodyKeyType, clear: Buffer, template: Template = keyTemplate(type)): Handle {
  try {
    if (clear.length !== custodyKeyBytes[type]) throw new VaultError(`a ${type} key is ${custodyKeyBytes[type]} bytes, not ${clear.length}`);
    return token.p11.C_CreateObject(token.session, [...template, { type: P.CKA_VALUE, value: clear }]);
  } finally {
    clear.fill(0);
  }
}

/** `cmac:` or `enc0:` and the first 3 bytes, computed by the token. */
export function kcvIn(token: Token, type: CustodyKeyType, key: Handle): string {
  const { p11, session } = token;
  if (isTdes(type)) {
    p11.C_EncryptInit(session, { mechanism: P.CKM_DES3_ECB }, key);
    return `enc0:${p11.C_Encrypt(session, Buffer.alloc(8), Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase()}`;
  }
  p11.C_SignInit(session, { mechanism: P.CKM_AES_CMAC }, key);
  return `cmac:${p11.C_Sign(session, Buffer.alloc(16), Buffer.alloc(16)).subarray(0, 3).toString('hex').toUpperCase()}`;
}

function bindingKey(token: Token, master: Handle, aad: string): Handle {
  const parameter: AesCbcParams = { type: P.CK_PARAMS_AES_CBC, iv: Buffer.alloc(16), data: createHash('sha256').update(aad, 'utf8').digest() };
  return token.p11.C_DeriveKey(token.session, { mechanism: P.CKM_AES_CBC_ENCRYPT_DATA, parameter }, master, [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
    { type: P.CKA_VALUE_LEN, value: 32 },
    { type: P.CKA_TOKEN, value: false },
    { type: P.CKA_SENSITIVE, value: true },
    { type: P.CKA_EXTRACTABLE, value: false },
    { type: P.CKA_WRAP, value: true },
    { type: P.CKA_UNWRAP, value: true },
  ]);
}

export function seal(token: Token, masters: MasterHandles, aad: string, type: CustodyKeyType, key: Handle): { sealed: string; masterGen: number } {
  const { gen, handle } = masters.current();
  const bk = bindingKey(token, handle, aad);
  try {
    const wrapped = token.p11.C_WrapKey(token.session, { mechanism: P.CKM_AES_KEY_WRAP_PAD }, bk, key, Buffer.alloc(custodyKeyBytes[type] + 16));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(gen);
    head[4] = custodyKeyTypes.indexOf(type);
    return { sealed: Buffer.concat([head, wrapped]).toString('base64'), masterGen: gen };
  } finally {
    token.discard(bk);
  }
}

/** The sealed key back as a session object (the caller discards it), or a VaultError. */
export function unseal(token: Token, masters: MasterHandles, aad: string, sealed: string, what: string): { type: CustodyKeyType; handle: Handle; gen: number } {
  const b = Buffer.from(sealed, 'base64');
  const type = custodyKeyTypes[b[4] ?? 255];
  if (b.length < 5 + 24 || !type) throw new VaultError(`sealed key ${what} is malformed`);
  const gen = b.readUInt32BE(0);
  const master = masters.get(gen);
  if (!master) throw new VaultError(`sealed key ${what} is under an unknown master-key generation`);
  const bk = bindingKey(token, master, aad);
  try {
    return { type, gen, handle: token.p11.C_UnwrapKey(token.session, { mechanism: P.CKM_AES_KEY_WRAP_PAD }, bk, b.subarray(5), keyTemplate(type)) };
  } catch (err) {
    throw new VaultError(`sealed key ${what} does not open for this id, device, usage and version`, { cause: err });
  } finally {
    token.discard(bk);
  }
}

/**
 * THE TRANSPORT DOOR: the clear value of `key`, wrapped inside the token under a fresh session
 * key and unwrapped here, for the caller to wrap for a terminal at once and wipe. No standard
 * mechanism forms a TR-31 block or an X25519/HKDF wrap inside the token.
 */
export function toClear(token: Token, type: CustodyKeyType, key: Handle): Buffer {
  const transport = token.p11.C_GenerateKey(token.session, { mechanism: P.CKM_AES_KEY_GEN }, [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_VALUE_LEN, value: 32 },
    { type: P.CKA_TOKEN, value: false },
    { type: P.CKA_SENSITIVE, value: false },
    { type: P.CKA_EXTRACTABLE, value: true },
    { type: P.CKA_WRAP, value: true },
  ]);
  let tk: Buffer | undefined;
  try {
    const wrapped = token.p11.C_WrapKey(token.session, { mechanism: P.CKM_AES_KEY_WRAP_PAD }, transport, key, Buffer.alloc(custodyKeyBytes[type] + 16));
    tk = token.p11.C_GetAttributeValue(token.session, transport, [{ type: P.CKA_VALUE }])[0]!.value;
    const d = createDecipheriv('id-aes256-wrap-pad', tk, KWP_IV);
    return Buffer.concat([d.update(wrapped), d.final()]);
  } finally {
    tk?.fill(0);
    token.discard(transport);
  }
}
