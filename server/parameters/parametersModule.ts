// Terminal parameters (docs/parameters.md): templates and their values per tier, the `parameters`
// campaign kind that pushes each terminal its desired set by `config.set`, the sets terminals
// report on `state`, and the drift alert.
import { canaryEarlyRestPhases } from '../../schemas/campaigns.ts';
import { registerCampaignRoutes } from '../campaigns/campaignRoutes.ts';
import { idempotency } from '../http/idempotency.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createDriftWatch } from './driftWatch.ts';
import { registerParameterRoutes } from './parameterRoutes.ts';
import { createParameterStore } from './parameterStore.ts';
import { createParametersKind, PARAMETERS_KIND, parametersKindParams } from './parametersKind.ts';
import { createReportedSets } from './reportedSets.ts';

const FLUSH_MS = 500;

export function createParametersModule(ctx: ModuleContext): ServerModule {
  const store = createParameterStore({ db: ctx.db });
  const reported = createReportedSets({ store, log: ctx.log });
  const drift = createDriftWatch({ store, reported, bus: ctx.bus, log: ctx.log, thresholdMs: ctx.config.PARAMETERS_DRIFT_ALERT_S * 1000 });
  ctx.campaigns.register(createParametersKind({ store, drift }));
  let flushTimer: NodeJS.Timeout | undefined;
  const offBus: (() => void)[] = [];

  return {
    name: 'parameters',
    routes(app) {
      registerParameterRoutes(app, { db: ctx.db, store, reported, audit: ctx.audit });
      registerCampaignRoutes(app, {
        engine: ctx.campaigns,
        audit: ctx.audit,
        idempotency: idempotency(ctx.db, { log: ctx.log }),
        kind: PARAMETERS_KIND,
        basePath: '/v1/parameter-pushes',
        noun: 'parameterPush',
        paramsShape: parametersKindParams.shape,
        example: {
          name: 'acquirer host change, Paris',
          templateId: 'ptpl_GmH0tq2Xg1yqkB3b',
          target: { filter: { model: 'PAX-A920' } },
          phases: canaryEarlyRestPhases(),
          successThreshold: 95,
          errorThreshold: 2,
        },
      });
    },
    async start() {
      const n = await reported.load();
      flushTimer = setInterval(() => void reported.flush(), FLUSH_MS);
      offBus.push(
        ctx.bus.on('device.revoked', ({ deviceId }) => {
          reported.forget(deviceId);
          drift.forget(deviceId);
        }),
      );
      drift.start();
      ctx.log.info({ reported: n }, 'parameters module started');
    },
    async stop() {
      clearInterval(flushTimer);
      for (const off of offBus) off();
      await drift.stop();
      await reported.flush();
    },
    onState(deviceId, msg) {
      if (msg.parameters) reported.report(deviceId, msg.parameters);
    },
    onMoved(deviceId) {
      drift.forget(deviceId);
    },
  };
}
