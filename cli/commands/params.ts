// params templates list|create, params assignments list|set|delete, params drift, params pushes …
// (docs/cli.md "Parameters"): the parameter templates and the values each tier assigns them, the
// terminals whose reported parameters differ from their desired ones, and parameter pushes, a
// campaign kind at /v1/parameter-pushes with the shared campaign commands.
import { parameterTemplateInput } from '../../schemas/parameters.ts';
import { page } from '../../server/http/schemas.ts';
import { parametersKindParams } from '../../server/parameters/parametersKind.ts';
import { driftItem, parameterTemplateView } from '../../server/parameters/parameterSchemas.ts';
import { limitOf, parseCommand, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { campaignGroup, readJsonFile } from './campaigns.ts';
import { issuesLine } from './packageFiles.ts';
import { hintNext } from './paging.ts';
import { assignmentsGroup } from './paramAssignments.ts';

const templates: Command = {
  summary: 'parameter templates by id, every version one row',
  usage: 'posfleet params templates list [--name NAME] [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { name: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx.client().call(page(parameterTemplateView), 'GET', '/v1/parameter-templates', {
      query: { name: values.name, limit: limitOf(values.limit, this.usage), cursor: values.cursor },
    });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'id', value: (t) => t.id },
        { header: 'name', value: (t) => t.name },
        { header: 'version', value: (t) => t.version },
        { header: 'applies to', value: (t) => ('model' in t.appliesTo ? `model ${t.appliesTo.model}` : `app ${t.appliesTo.app}`) },
        { header: 'fields', value: (t) => t.fields.map((f) => f.key).join(',') },
        { header: 'created', value: (t) => t.createdAt },
      ]);
    hintNext(ctx, got);
  },
};

const createTemplate: Command = {
  summary: 'create a template from a JSON file (the body of POST /v1/parameter-templates); a name already used makes its next version',
  usage: 'posfleet params templates create -f TEMPLATE.json (or -f - for stdin) [--json]',
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { file: { type: 'string', short: 'f' } }, this.usage);
    if (!values.file || rest.length) throw new UsageError(this.usage);
    // Checked here with the server's own schema, so a bad field is named before anything is sent.
    const body = parameterTemplateInput.safeParse(readJsonFile(values.file));
    if (!body.success) throw new UsageError(`${values.file} is not a parameter template: ${issuesLine(body.error)}\n  ${this.usage}`);
    const made = await ctx.client().call(parameterTemplateView, 'POST', '/v1/parameter-templates', { body: body.data });
    if (ctx.json) return ctx.out.json(made);
    ctx.out.line(`template ${made.id}: ${made.name} v${made.version}, ${made.fields.length} fields`);
  },
};

const drift: Command = {
  summary: 'terminals whose reported parameters differ from their desired ones, by device id',
  usage: 'posfleet params drift [--limit N] [--cursor C] [--json]',
  async run(ctx, args) {
    const { values } = parseCommand(args, { limit: { type: 'string' }, cursor: { type: 'string' } }, this.usage);
    const got = await ctx
      .client()
      .call(page(driftItem), 'GET', '/v1/parameters/drift', { query: { limit: limitOf(values.limit, this.usage), cursor: values.cursor } });
    if (ctx.json) ctx.out.json(got);
    else
      ctx.out.table(got.items, [
        { header: 'device', value: (d) => d.deviceId },
        { header: 'serial', value: (d) => d.serial },
        { header: 'template', value: (d) => `${d.templateId} v${d.version}` },
        { header: 'other template', value: (d) => (d.templateMismatch ? 'yes' : 'no') },
        { header: 'keys', value: (d) => d.keys.join(',') },
        { header: 'reported', value: (d) => d.reportedAt },
      ]);
    hintNext(ctx, got);
  },
};

export const paramsGroup: Group = {
  summary: 'parameters: templates list|create, assignments list|set|delete, drift, pushes (campaigns)',
  commands: {
    templates: { summary: 'parameter templates: list, create -f', commands: { list: templates, create: createTemplate } },
    assignments: assignmentsGroup,
    drift,
    pushes: campaignGroup(
      {
        words: 'params pushes',
        noun: 'parameter push',
        routeNoun: 'parameterPush',
        basePath: '/v1/parameter-pushes',
        paramsShape: parametersKindParams.shape,
      },
      'parameter pushes: create -f, list, get, start, pause, resume, cancel, watch, devices',
    ),
  },
};
