// firmware keygen | sign | upload | list | get (docs/cli.md "Firmware", docs/ota.md 1.2). Signing
// is scripts/sign-firmware.ts's code (one Ed25519 implementation in the project); the private key
// never leaves the publisher's machine: `sign` runs offline, `upload` sends the signed manifest.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firmwareManifest } from '../../schemas/ota.ts';
import { generatePublisherKey, hashFile, signManifest } from '../../scripts/sign-firmware.ts';
import { firmwareSchema } from '../../server/firmware/firmwareRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatRecord } from '../output.ts';
import { fileStream, issuesLine, listOf, readSignedFor } from './packageFiles.ts';
import { hintNext } from './paging.ts';

const keygen: Command = {
  summary: 'make an Ed25519 publisher key pair (the public key goes into FIRMWARE_PUBLISHER_KEYS)',
  usage: 'posfleet firmware keygen --out DIR',
  async run(ctx, args) {
    const { values } = parseCommand(args, { out: { type: 'string' } }, this.usage);
    if (!values.out) throw new UsageError(this.usage);
    mkdirSync(values.out, { recursive: true });
    const k = generatePublisherKey();
    writeFileSync(join(values.out, 'publisher.key'), k.privateKeyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(join(values.out, 'publisher.pub'), `${k.publicKeyBase64}\n`);
    ctx.out.line(`private key: ${join(values.out, 'publisher.key')} (keep it offline)`);
    ctx.out.line(`public key (FIRMWARE_PUBLISHER_KEYS): ${k.publicKeyBase64}`);
  },
};

const sign: Command = {
  summary: 'sign an image offline: writes {manifest, signature}',
  usage: 'posfleet firmware sign --key publisher.key --image FILE --name N --version V --models M1,M2 [-o FILE]',
  async run(ctx, args) {
    const { values } = parseCommand(
      args,
      {
        key: { type: 'string' },
        image: { type: 'string' },
        name: { type: 'string' },
        version: { type: 'string' },
        models: { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      this.usage,
    );
    if (!values.key || !values.image || !values.name || !values.version || !values.models) throw new UsageError(this.usage);
    const { size, sha256 } = await hashFile(values.image);
    const parsed = firmwareManifest.safeParse({
      name: values.name,
      version: values.version,
      models: listOf(values.models),
      size,
      sha256,
    });
    if (!parsed.success) throw new UsageError(issuesLine(parsed.error));
    const text = `${JSON.stringify({ manifest: parsed.data, signature: signManifest(parsed.data, readFileSync(values.key, 'utf8')) }, null, 2)}\n`;
    if (values.output) {
      writeFileSync(values.output, text);
      ctx.out.note(
        `signed manifest written to ${values.output}; upload it with: posfleet firmware upload --manifest ${values.output} --image ${values.image}`,
      );
    } else process.stdout.write(text);
  },
};

const upload: Command = {
  summary: 'register a signed manifest and upload its image (streamed)',
  usage: 'posfleet firmware upload --manifest SIGNED.json --image FILE [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { manifest: { type: 'string' }, image: { type: 'string' } }, this.usage);
    if (!values.manifest || !values.image) throw new UsageError(this.usage);
    const signed = readSignedFor(firmwareManifest, values.manifest, values.image, 'posfleet firmware sign');
    const api = ctx.client();
    const created = await api.call(firmwareSchema, 'POST', '/v1/firmware', { body: signed });
    const ready =
      created.state === 'ready'
        ? created
        : await api.call(firmwareSchema, 'PUT', `/v1/firmware/${encodeURIComponent(created.id)}/content`, {
            content: { type: 'application/octet-stream', data: fileStream(values.image) },
          });
    if (ctx.json) return ctx.out.json(ready);
    ctx.out.line(`firmware ${ready.id} ${ready.name} ${ready.version}: ${ready.state}`);
  },
};

const list: Command = {
  summary: 'firmware artifacts, newest first',
  usage: 'posfleet firmware list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .call(page(firmwareSchema), 'GET', '/v1/firmware', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (f) => f.id },
        { header: 'name', value: (f) => f.name },
        { header: 'version', value: (f) => f.version },
        { header: 'state', value: (f) => f.state },
        { header: 'size', value: (f) => f.size },
        { header: 'sha256', value: (f) => f.sha256 },
      ]);
    hintNext(ctx, got);
  },
};

const get: Command = {
  summary: 'one firmware artifact',
  usage: 'posfleet firmware get <id> [--json]',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const f = await ctx.client().call(firmwareSchema, 'GET', `/v1/firmware/${encodeURIComponent(id!)}`);
    if (ctx.json) ctx.out.json(f);
    else for (const l of formatRecord(f)) ctx.out.line(l);
  },
};

export const firmwareGroup: Group = { summary: 'firmware: keygen, sign, upload, list, get', commands: { keygen, sign, upload, list, get } };
