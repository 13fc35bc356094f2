// Why a keys.install is refused (`rejected`: the block was not tried) or failed (`failed`: it was
// tried and did not open or check out), with one of the codes of schemas/keys.ts keyErrorCodes.
export class KeyInstallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly state: 'rejected' | 'failed',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KeyInstallError';
  }
}
