// GET /v1/apps/{id}/content: the package image, authorised as firmware images are (a signed link
// for one terminal, device HTTP Basic, or a staff token) and served from the same store with the
// same Range handling (server/firmware/contentDownload.ts).
import { z } from '@hono/zod-openapi';
import { AppError } from '../errors.ts';
import type { ArtifactStorage } from '../firmware/artifactStorage.ts';
import { authorizeContentDownload, serveContent, type ContentAccessDeps } from '../firmware/contentDownload.ts';
import { checkedPathParams, errorResponses, pathParams } from '../http/schemas.ts';
import type { AppRouter } from '../http/types.ts';
import type { AppService } from './appService.ts';

export interface AppDownloadDeps extends ContentAccessDeps {
  service: AppService;
  storage: ArtifactStorage;
}

const binary = { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } };
const idParams = pathParams('id');

export function registerAppDownload(app: AppRouter, deps: AppDownloadDeps) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/apps/{id}/content',
    tags: ['apps'],
    summary: 'Download the package image: signed link (?device&exp&sig), HTTP Basic deviceId:secret, or a bearer token; Range supported',
    request: { params: idParams },
    responses: {
      200: { description: 'the image', content: binary },
      206: { description: 'the requested range', content: binary },
      ...errorResponses(401, 403, 404, 409, 416),
    },
  });

  app.get('/v1/apps/:id/content', async (c) => {
    // Who asks comes first: a caller without access learns nothing of the id.
    await authorizeContentDownload(deps, c, c.req.param('id'), 'apps');
    const { id } = checkedPathParams(c, idParams);
    const row = await deps.service.byId(id);
    if (row.state !== 'ready') throw new AppError(409, 'not_ready', `app ${id} has no content yet`);
    return serveContent(c, row, { storage: deps.storage });
  });
}
