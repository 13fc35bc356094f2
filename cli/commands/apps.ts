// apps list | get | sign | upload | deploy | deployments … (docs/cli.md "Payment apps", docs/api.md).
// A package is signed like firmware, offline with the publisher's key (scripts/sign-app.ts over the
// firmware signer), registered by its signed manifest and its image streamed; a deployment is the
// `apps` campaign kind at /v1/app-deployments, whose list, watch and devices are the campaign commands.
import { readFileSync, writeFileSync } from 'node:fs';
import { appManifest } from '../../schemas/apps.ts';
import { signAppManifest } from '../../scripts/sign-app.ts';
import { hashFile } from '../../scripts/sign-firmware.ts';
import { appSchema, packageSummary } from '../../server/apps/appRoutes.ts';
import { appParams } from '../../server/apps/appsKind.ts';
import { page } from '../../server/http/schemas.ts';
import { limitOf, parseCommand, positionals, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatRecord } from '../output.ts';
import { deployCommand } from './appDeploy.ts';
import { campaignGroup } from './campaigns.ts';
import { fileStream, issuesLine, listOf, readSignedFor } from './packageFiles.ts';
import { hintNext } from './paging.ts';

const list: Command = {
  summary: 'app packages by name: each version, its package id, state and installs',
  usage: 'posfleet apps list [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .call(page(packageSummary), 'GET', '/v1/apps', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(
        got.items.flatMap((p) => p.versions.map((v) => ({ packageName: p.packageName, ...v }))),
        [
          { header: 'package', value: (r) => r.packageName },
          { header: 'version', value: (r) => r.version },
          { header: 'id', value: (r) => r.id },
          { header: 'state', value: (r) => r.state ?? 'reported only' },
          { header: 'installs', value: (r) => r.installs },
          { header: 'models', value: (r) => r.models?.join(',') },
          { header: 'min firmware', value: (r) => r.minFirmware },
        ],
      );
    hintNext(ctx, got);
  },
};

const get: Command = {
  summary: 'one app package version',
  usage: 'posfleet apps get <id> [--json]',
  async run(ctx, args) {
    const [id] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const a = await ctx.client().call(appSchema, 'GET', `/v1/apps/${encodeURIComponent(id!)}`);
    if (ctx.json) ctx.out.json(a);
    else for (const l of formatRecord(a)) ctx.out.line(l);
  },
};

const sign: Command = {
  summary: 'sign a package offline with a publisher key: writes {manifest, signature}',
  usage: 'posfleet apps sign --key publisher.key --image FILE --package NAME --version V --models M1,M2 --min-firmware V [-o FILE]',
  async run(ctx, args) {
    const { values } = parseCommand(
      args,
      {
        key: { type: 'string' },
        image: { type: 'string' },
        package: { type: 'string' },
        version: { type: 'string' },
        models: { type: 'string' },
        'min-firmware': { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      this.usage,
    );
    const minFirmware = values['min-firmware'];
    if (!values.key || !values.image || !values.package || !values.version || !values.models || !minFirmware)
      throw new UsageError(this.usage);
    const { size, sha256 } = await hashFile(values.image);
    const parsed = appManifest.safeParse({
      packageName: values.package,
      version: values.version,
      models: listOf(values.models),
      minFirmware,
      size,
      sha256,
    });
    if (!parsed.success) throw new UsageError(issuesLine(parsed.error));
    const text = `${JSON.stringify({ manifest: parsed.data, signature: signAppManifest(parsed.data, readFileSync(values.key, 'utf8')) }, null, 2)}\n`;
    if (!values.output) return void process.stdout.write(text);
    writeFileSync(values.output, text);
    ctx.out.note(
      `signed manifest written to ${values.output}; upload it with: posfleet apps upload --manifest ${values.output} --image ${values.image}`,
    );
  },
};

const upload: Command = {
  summary: 'register a signed package manifest and upload its image (streamed)',
  usage: 'posfleet apps upload --manifest SIGNED.json --image FILE [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { manifest: { type: 'string' }, image: { type: 'string' } }, this.usage);
    if (!values.manifest || !values.image) throw new UsageError(this.usage);
    const signed = readSignedFor(appManifest, values.manifest, values.image, 'posfleet apps sign');
    const api = ctx.client();
    const created = await api.call(appSchema, 'POST', '/v1/apps', { body: signed });
    const ready =
      created.state === 'ready'
        ? created
        : await api.call(appSchema, 'PUT', `/v1/apps/${encodeURIComponent(created.id)}/content`, {
            content: { type: 'application/octet-stream', data: fileStream(values.image) },
          });
    if (ctx.json) return ctx.out.json(ready);
    ctx.out.line(`app ${ready.id} ${ready.packageName} ${ready.version}: ${ready.state}`);
  },
};

const deployments = campaignGroup(
  {
    words: 'apps deployments',
    noun: 'app deployment',
    routeNoun: 'app-deployment',
    basePath: '/v1/app-deployments',
    paramsShape: appParams.shape,
  },
  'app deployments: create -f, list, get, start, pause, resume, cancel, watch, devices, failures',
);

export const appsGroup: Group = {
  summary: 'payment apps: list, get, sign, upload, deploy, deployments',
  commands: { list, get, sign, upload, deploy: deployCommand, deployments },
};
