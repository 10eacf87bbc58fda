/**
 * `ekm import params|wrap|material`: the BYOK flow. `wrap` runs locally with node:crypto, playing the
 * customer's HSM (it only needs the public key), so the whole flow works from a shell:
 *   params (public key + token) -> wrap (material under the public key) -> material (import).
 */
import { Command, Option } from 'commander';
import { wrapKeyMaterial, type WrappingAlgorithm, type WrappingKeySpec } from '@ekm/client';
import { readFileArg, readFileOrBase64 } from '../args';
import type { CliContext } from '../cli-context';
import { withExamples } from '../help';
import { fieldLines, keyTable } from '../output';

const ALGORITHMS: WrappingAlgorithm[] = ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'];
const algorithmOption = (): Option => new Option('--algorithm <alg>', 'wrapping algorithm').choices(ALGORITHMS).default('RSAES_OAEP_SHA_256');

export function importCommand(ctx: CliContext): Command {
  const imp = withExamples(new Command('import').description('bring your own key material (BYOK) into an EXTERNAL key'),
    'ekm key create --tenant acme --origin EXTERNAL --json', 'ekm import params --key <key-id> --public-key-out wrap.der --token-out token.bin',
    'ekm import wrap --public-key wrap.der --material material.bin --out wrapped.bin', 'ekm import material --key <key-id> --token token.bin --material wrapped.bin');

  withExamples(imp.command('params').description('get a wrapping public key and a single-use import token (valid 24 h)')
    .requiredOption('--key <key>', 'EXTERNAL key id or alias/NAME')
    .addOption(algorithmOption())
    .addOption(new Option('--wrapping-spec <spec>', 'RSA wrapping key size').choices(['RSA_3072', 'RSA_4096']).default('RSA_4096'))
    .option('--public-key-out <file>', 'write the public key (DER SubjectPublicKeyInfo) to a file')
    .option('--token-out <file>', 'write the import token to a file'),
  'ekm import params --key alias/acme-byok --public-key-out wrap.der --token-out token.bin',
  'ekm import params --key alias/acme-byok --algorithm RSA_AES_KEY_WRAP_SHA_256 --json')
    .action(async (o: { key: string; algorithm: WrappingAlgorithm; wrappingSpec: WrappingKeySpec; publicKeyOut?: string; tokenOut?: string }, self: Command) => {
      const p = await (await ctx.api(self)).keys.getParametersForImport(o.key, o.algorithm, o.wrappingSpec);
      if (o.publicKeyOut !== undefined) ctx.writeFile('--public-key-out', o.publicKeyOut, p.publicKey);
      if (o.tokenOut !== undefined) ctx.writeFile('--token-out', o.tokenOut, p.importToken);
      const json = { ...p, publicKey: p.publicKey.toString('base64'), importToken: p.importToken.toString('base64') };
      ctx.print(self, json, () => fieldLines({
        keyId: p.keyId, wrappingAlgorithm: p.wrappingAlgorithm, wrappingKeySpec: p.wrappingKeySpec, parametersValidTo: p.parametersValidTo,
        publicKey: o.publicKeyOut ?? json.publicKey, importToken: o.tokenOut ?? json.importToken,
      }));
    });

  withExamples(imp.command('wrap').description('wrap key material locally under the wrapping public key (what a customer HSM does)')
    .requiredOption('--public-key <file>', 'public key from `ekm import params` (DER or PEM)')
    .requiredOption('--material <file>', 'the raw key material (32 bytes)')
    .addOption(algorithmOption())
    .option('--out <file>', 'write the wrapped material to a file'),
  'head -c 32 /dev/urandom > material.bin && ekm import wrap --public-key wrap.der --material material.bin --out wrapped.bin')
    .action((o: { publicKey: string; material: string; algorithm: WrappingAlgorithm; out?: string }, self: Command) => {
      const material = readFileArg('--material', o.material);
      const wrapped = wrapKeyMaterial(readFileArg('--public-key', o.publicKey), o.algorithm, material);
      material.fill(0);
      if (o.out !== undefined) ctx.writeFile('--out', o.out, wrapped);
      const json = { algorithm: o.algorithm, encryptedKeyMaterial: wrapped.toString('base64') };
      ctx.print(self, json, () => fieldLines({ algorithm: o.algorithm, encryptedKeyMaterial: o.out !== undefined ? `written to ${o.out}` : json.encryptedKeyMaterial }));
    });

  withExamples(imp.command('material').description('import wrapped key material with its token; the key becomes Enabled')
    .requiredOption('--key <key>', 'EXTERNAL key id or alias/NAME')
    .requiredOption('--token <file|base64>', 'import token (file from --token-out, or base64)')
    .requiredOption('--material <file|base64>', 'wrapped material (from `ekm import wrap`)'),
  'ekm import material --key alias/acme-byok --token token.bin --material wrapped.bin')
    .action(async (o: { key: string; token: string; material: string }, self: Command) => {
      const token = readFileOrBase64('--token', o.token, (p) => ctx.exists(p));
      const wrapped = readFileOrBase64('--material', o.material, (p) => ctx.exists(p));
      const k = await (await ctx.api(self)).keys.importKeyMaterial(o.key, token, wrapped);
      ctx.print(self, k, (view) => keyTable(k, view));
    });
  return imp;
}
