// params assignments list | set | delete (docs/cli.md "Parameters"): the values one tier (a model,
// an organisation, a group, a merchant, a terminal) sets for a template, over
// PUT /v1/parameter-templates/{id}/assignments (values null removes them) and the template's detail.
import type { ApiClient } from '../../client/apiClient.ts';
import { assignableTiers, valueIssues } from '../../schemas/parameters.ts';
import { assignmentAnswer, assignmentBody, templateDetail } from '../../server/parameters/parameterSchemas.ts';
import { parseCommand, positionals, type Command, type Group } from '../context.ts';
import { UsageError } from '../errors.ts';
import { readJsonFile } from './campaigns.ts';
import { issuesLine } from './packageFiles.ts';

const tiers = assignableTiers.join('|');
const assignmentsPath = (templateId: string) => `/v1/parameter-templates/${encodeURIComponent(templateId)}/assignments`;
const getDetail = (api: ApiClient, templateId: string) =>
  api.call(templateDetail, 'GET', `/v1/parameter-templates/${encodeURIComponent(templateId)}`);

/** `key=value` by key: the stored order is the database's, not the order they were set in. */
const valuesText = (values: Record<string, unknown>) =>
  Object.entries(values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');

function valuesFlag(text: string, usage: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--values is a JSON object, e.g. '{"currency":"USD","timeoutS":45}'\n  ${usage}`);
  }
}

const list: Command = {
  summary: "a template's assignments: each tier's target and the values it sets",
  usage: 'posfleet params assignments list <template-id> [--json]',
  async run(ctx, args) {
    const [templateId] = positionals(parseCommand(args, {}, this.usage).positionals, 1, this.usage);
    const detail = await getDetail(ctx.client(), templateId!);
    if (ctx.json) return ctx.out.json(detail.assignments);
    ctx.out.table(detail.assignments, [
      { header: 'tier', value: (a) => a.tier },
      { header: 'target', value: (a) => a.targetId },
      { header: 'values', value: (a) => valuesText(a.values) },
    ]);
  },
};

const setUsage =
  `posfleet params assignments set <template-id> --tier ${tiers} --target ID --values JSON [--json]\n` +
  '  posfleet params assignments set <template-id> -f ASSIGNMENT.json (or -f - for stdin; {"tier", "targetId", "values"}) [--json]';
const set: Command = {
  summary: "set one tier's values for a template (replaces that tier's set for the target)",
  usage: setUsage,
  async run(ctx, args) {
    const { values: flags, positionals: rest } = parseCommand(
      args,
      { file: { type: 'string', short: 'f' }, tier: { type: 'string' }, target: { type: 'string' }, values: { type: 'string' } },
      setUsage,
    );
    const [templateId] = positionals(rest, 1, setUsage);
    const { file, ...fields } = flags;
    if (file !== undefined && Object.values(fields).some((v) => v !== undefined))
      throw new UsageError(`-f takes the whole assignment: no --tier, --target or --values with it\n  ${setUsage}`);
    const raw =
      file === undefined
        ? {
            tier: fields.tier,
            targetId: fields.target,
            values: fields.values === undefined ? undefined : valuesFlag(fields.values, setUsage),
          }
        : readJsonFile(file);
    // Checked here with the server's own schema and the template's fields, so a wrong tier or a
    // value out of bounds is named (with its path) before anything is sent.
    const body = assignmentBody.safeParse(raw);
    if (!body.success) throw new UsageError(`not an assignment: ${issuesLine(body.error)}\n  ${setUsage}`);
    if (body.data.values === null)
      throw new UsageError(`values null removes an assignment: use posfleet params assignments delete\n  ${setUsage}`);
    const api = ctx.client();
    const template = await getDetail(api, templateId!);
    const issues = valueIssues(template.fields, body.data.values);
    if (issues.length)
      throw new UsageError(
        `the values do not fit ${template.name} v${template.version}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    const got = await api.call(assignmentAnswer, 'PUT', assignmentsPath(templateId!), { body: body.data });
    if (ctx.json) return ctx.out.json(got);
    ctx.out.line(`${got.tier} ${got.targetId}: ${valuesText(got.values)} set for ${template.name} v${template.version} (${template.id})`);
  },
};

const removeUsage = `posfleet params assignments delete <template-id> --tier ${tiers} --target ID`;
const remove: Command = {
  summary: "remove one tier's values for a template (its terminals fall back to the tiers below)",
  usage: removeUsage,
  async run(ctx, args) {
    const { values, positionals: rest } = parseCommand(args, { tier: { type: 'string' }, target: { type: 'string' } }, removeUsage);
    const [templateId] = positionals(rest, 1, removeUsage);
    const body = assignmentBody.safeParse({ tier: values.tier, targetId: values.target, values: null });
    if (!body.success) throw new UsageError(`${issuesLine(body.error)}\n  ${removeUsage}`);
    await ctx.client().call(assignmentAnswer, 'PUT', assignmentsPath(templateId!), { body: body.data });
    ctx.out.line(`${body.data.tier} ${body.data.targetId}: assignment of ${templateId} removed`);
  },
};

export const assignmentsGroup: Group = {
  summary: 'the values each tier assigns a template: list, set, delete',
  commands: { list, set, delete: remove },
};
