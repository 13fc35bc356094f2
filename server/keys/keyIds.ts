import { newId } from '../core/ids.ts';

export const newKeyId = () => newId('key');
export const newRotationId = () => newId('krot');
export const newApprovalId = () => newId('kapr');
