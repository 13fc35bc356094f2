// params templates list, params drift, params pushes … (docs/cli.md "Parameters"): the parameter
// templates, the terminals whose reported parameters differ from their desired ones, and
// parameter pushes, a campaign kind at /v1/parameter-pushes with the shared campaign commands.
import { page } from '../../server/http/schemas.ts';
import { parametersKindParams } from '../../server/parameters/parametersKind.ts';
import { driftItem, parameterTemplateView } from '../../server/parameters/parameterRoutes.ts';
import { limitOf, parseCommand, type Command, type Group } from '../context.ts';
import { campaignGroup } from './campaigns.ts';
import { hintNext } from './paging.ts';

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
        { header: 'template', value: (d) => `${d.templateId} v${d.version}` },
        { header: 'other template', value: (d) => (d.templateMismatch ? 'yes' : 'no') },
        { header: 'keys', value: (d) => d.keys.join(',') },
        { header: 'reported', value: (d) => d.reportedAt },
      ]);
    hintNext(ctx, got);
  },
};

export const paramsGroup: Group = {
  summary: 'parameters: templates list, drift, pushes (campaigns)',
  commands: {
    templates: { summary: 'parameter templates: list', commands: { list: templates } },
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
