// The server's refusals of a firmware or app upload (docs/ota.md 1.2), in the operator's words:
// listed on the page before an upload, and beside the code when one happens.
export const uploadRefusals: Record<string, string> = {
  bad_signature:
    'The signature does not verify with any publisher key this server trusts (FIRMWARE_PUBLISHER_KEYS): it was made with an unknown key, or the manifest was changed after signing. Sign again with a trusted key.',
  hash_mismatch: 'The uploaded bytes do not match the size or SHA-256 in the manifest; nothing was kept. Pick the image that was signed.',
  version_exists: 'This name and version are registered already with other content. Publish a new version instead.',
  bad_content_type: 'The image must be sent as application/octet-stream.',
};
