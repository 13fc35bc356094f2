import { randomBytes } from 'node:crypto';

export const newKeyId = () => `key_${randomBytes(12).toString('base64url')}`;
export const newRotationId = () => `krot_${randomBytes(12).toString('base64url')}`;
export const newApprovalId = () => `kapr_${randomBytes(12).toString('base64url')}`;
