// firstOrNotFound: the first row of a lookup, or the 404 every room answers for a missing one.
import { describe, expect, it } from 'vitest';
import { firstOrNotFound } from '../../server/core/firstOrNotFound.ts';
import { AppError } from '../../server/errors.ts';

describe('firstOrNotFound', () => {
  it('gives the first row read', async () => {
    expect(await firstOrNotFound(Promise.resolve([{ id: 'a' }, { id: 'b' }]), 'thing a')).toEqual({ id: 'a' });
  });

  it('answers 404 not_found naming what was looked for when nothing was read', async () => {
    const err = await firstOrNotFound(Promise.resolve([]), 'fault flt_x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'fault flt_x not found' });
  });
});
