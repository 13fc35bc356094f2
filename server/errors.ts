// The one catalog of error codes the API answers with (docs/api.md#errors), after hawkBit's
// SpServerError: each code sits under the HTTP status it is sent with, with a default message.
// `AppError` accepts only a code listed under its status, so `tsc` checks every throw site; the
// handler (http/errorHandler.ts) turns it into `{error: {code, message, details?}}`.
// A code may sit under two statuses where the documented contract has it so: `blacklisted` is a
// 403 at enrollment and a 409 when an operator re-enables, `bad_signature` a 403 on a signed
// upload link and a 422 on a firmware manifest, `unsupported_media_type` a 400 for a CSV import
// and a 415 from the framework.
export const errorCatalog = {
  400: {
    validation_failed: 'request did not pass validation',
    bad_request: 'bad request',
    bad_json: 'request body is not valid JSON',
    bad_cursor: 'cursor is not valid',
    bad_idempotency_key: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
    bad_content_type: 'the body has the wrong content type',
    unsupported_media_type: 'the body has an unsupported media type',
    empty_body: 'no content',
    unknown_devices: 'some device ids do not exist',
    bad_component: 'a key component must be 64 hex digits (32 bytes)',
    component_required: 'this approval takes a key component',
    component_not_expected: 'this decision takes no key component',
    bad_key_set_id: 'a key set id is 8 hex digits (AES) or 10 (TDES)',
    query_invalid: 'the fleet query is not valid (details: position, expected)',
  },
  401: {
    unauthorized: 'missing or invalid credentials',
    bad_enroll_token: 'wrong enrollment token',
  },
  403: {
    forbidden: 'not allowed',
    not_registered: 'the serial is not registered',
    model_mismatch: 'the serial is registered as another model',
    revoked: 'the device is revoked',
    blacklisted: 'the device is blacklisted',
    same_user: 'another admin must decide',
    dual_control: 'the approval must come from an admin other than the requester',
    own_tokens_only: 'a token is issued only to its owner',
    link_expired: 'the link has expired',
    bad_link: 'the link is not valid',
    bad_signature: 'the signature is not valid',
    device_not_allowed: 'this device may not do that',
  },
  404: {
    not_found: 'not found',
  },
  405: {
    method_not_allowed: 'method not allowed',
  },
  409: {
    conflict: 'conflict',
    already_enrolled: 'the serial is already enrolled',
    serial_exists: 'a device with this serial is already registered',
    blacklisted: 'the device is blacklisted',
    already_blacklisted: 'the device is already blacklisted',
    not_blacklisted: 'the device is not blacklisted',
    device_unavailable: 'the device cannot take this now',
    command_final: 'the command is already final',
    idempotency_in_progress: 'a request with this Idempotency-Key is in progress',
    user_disabled: 'the user is disabled',
    last_admin: 'the last enabled admin cannot be disabled',
    invalid_state: 'the campaign is not in a state that allows this',
    invalid_status: 'the merchant is not in a status that allows this',
    device_busy: 'a target device is in another active campaign',
    rolling_back: 'the campaign is rolling back',
    version_exists: 'this firmware version already exists',
    not_ready: 'the firmware has no content yet',
    bundle_not_requested: 'the log bundle is not waiting for an upload',
    bundle_not_uploaded: 'the log bundle has not been uploaded',
    fault_changed: 'the fault changed meanwhile; try again',
    already_acknowledged: 'the fault is already acknowledged',
    fault_resolved: 'the fault is resolved',
    expired: 'the request expired without a decision',
    already_decided: 'the request is already decided',
    request_decided: 'the rebind request is already decided',
    request_expired: 'the rebind request has expired',
    rebind_pending: 'the device already has a pending rebind request',
    binding_locked: 'the device is already bound; re-binding needs an approved rebind request',
    binding_changed: 'the terminal binding changed since the request was filed',
    same_binding: 'the terminal is already bound to that merchant with that TID',
    not_bound: 'the device is not bound',
    tid_taken: 'the TID is already in use at this merchant',
    mid_exists: 'a merchant with this MID already exists',
    merchant_not_active: 'only an active merchant can be bound',
    merchant_has_bindings: 'a merchant that ever had terminals is kept for the record',
    card_blacklist_full: 'the card blacklist is full',
    master_key_busy: 'a master-key replacement or import is under way',
    master_key_external: 'the master key comes from KEY_VAULT_MASTER_KEY',
    component_zero: 'a key component is all zeros',
    component_unreadable: 'key component 1 of this request no longer opens',
    key_zero: 'component 2 equals component 1: the key would be all zeros',
    key_is_current: 'the components make the current master key',
    bdk_exists: 'a BDK with this name or key set id exists',
    bdk_not_active: 'the BDK is retired',
    bdk_exhausted: 'the BDK has no derivation id left',
    name_taken: 'another group or filter has this name',
  },
  413: {
    payload_too_large: 'request body too large',
  },
  415: {
    unsupported_media_type: 'unsupported media type',
  },
  416: {
    range_not_satisfiable: 'the requested range is outside the content',
  },
  422: {
    unprocessable: 'the request cannot be carried out',
    device_not_enrolled: 'commands go to enrolled terminals',
    no_target: 'the target matches no device',
    idempotency_key_reused: 'this Idempotency-Key was used with a different request',
    unknown_device: 'the device does not exist',
    unknown_firmware: 'the firmware does not exist',
    unknown_parameter_template: 'the parameter template does not exist',
    unknown_bdk: 'the BDK does not exist',
    unknown_group: 'the group does not exist',
    unknown_filter: 'the saved filter does not exist',
    unknown_assignee: 'no such active user',
    firmware_not_ready: 'the firmware has no content yet',
    unknown_app: 'the app package does not exist',
    app_not_ready: 'the app package has no content yet',
    app_required: 'the deployment does not say which app package',
    app_mismatch: 'the app id and the package name disagree',
    hash_mismatch: 'the content does not match the manifest',
    bad_signature: 'the signature does not verify with any trusted publisher key',
    rollback_unsupported: 'campaigns of this kind cannot roll back',
    notifier_off: 'no webhook is configured',
    duplicate_sub_merchant: 'sub-merchant ids must be unique',
    sub_merchants_required: 'a marketplace merchant lists at least one sub-merchant',
    sub_merchants_not_allowed: 'only a marketplace merchant has sub-merchants',
  },
  429: {
    rate_limited: 'too many requests',
  },
  500: {
    internal: 'internal server error',
  },
  503: {
    unavailable: 'service unavailable',
  },
  507: {
    insufficient_storage: "no space left on the server's disk to store this; retry once space is freed",
  },
} as const satisfies Record<number, Record<string, string>>;

export type ErrorStatus = keyof typeof errorCatalog;
/** The codes the API sends with `status`. */
export type ErrorCodeOf<S extends ErrorStatus> = S extends ErrorStatus ? keyof (typeof errorCatalog)[S] & string : never;
export type ErrorCode = { [S in ErrorStatus]: ErrorCodeOf<S> }[ErrorStatus];

function defaultMessage<S extends ErrorStatus>(status: S, code: ErrorCodeOf<S>): string {
  const messages: Readonly<Record<string, string>> = errorCatalog[status];
  return messages[code] ?? code;
}

// The catalog's generic code for each status the framework raises without a code (HTTPException).
const genericCodes = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
} as const satisfies { [S in ErrorStatus]?: ErrorCodeOf<S> };

export const codeForStatus: ReadonlyMap<number, ErrorCode> = new Map(
  Object.entries(genericCodes).map(([status, code]) => [Number(status), code]),
);

/**
 * An error the API answers with its catalog code. `cause` (ES2022) keeps the error it stands
 * for, e.g. the driver's unique violation behind a `serial_exists`, for the log.
 */
export class AppError<S extends ErrorStatus = ErrorStatus> extends Error {
  readonly status: ErrorStatus;
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(status: S, code: ErrorCodeOf<S>, message: string = defaultMessage(status, code), details?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const isErrorStatus = (n: number): n is ErrorStatus => Object.hasOwn(errorCatalog, n);
const isCodeOf = <S extends ErrorStatus>(status: S, code: string): code is ErrorCodeOf<S> => Object.hasOwn(errorCatalog[status], code);

/**
 * An error another instance answered with (server/cluster/clusterLink.ts): its catalog status and
 * code again, or 503 `unavailable` for a pair this build does not know.
 */
export function appErrorFromPeer(status: number, code: string, message: string): AppError {
  if (isErrorStatus(status) && isCodeOf(status, code)) return new AppError(status, code, message);
  return new AppError(503, 'unavailable', message);
}

export const badRequest = (code: ErrorCodeOf<400>, message?: string, details?: unknown, options?: ErrorOptions) =>
  new AppError(400, code, message, details, options);
export const unauthorized = (message?: string, code: ErrorCodeOf<401> = 'unauthorized') => new AppError(401, code, message);
export const forbidden = (message?: string, code: ErrorCodeOf<403> = 'forbidden') => new AppError(403, code, message);
export const notFound = (what: string, code: ErrorCodeOf<404> = 'not_found') => new AppError(404, code, `${what} not found`);
export const conflict = (code: ErrorCodeOf<409>, message?: string, details?: unknown, options?: ErrorOptions) =>
  new AppError(409, code, message, details, options);
export const unprocessable = (code: ErrorCodeOf<422>, message?: string, details?: unknown, options?: ErrorOptions) =>
  new AppError(422, code, message, details, options);
export const tooManyRequests = (message?: string) => new AppError(429, 'rate_limited', message);

/**
 * Why the broker refuses a terminal's CONNECT, with the MQTT 3.1.1 CONNACK return code it gets:
 * the MQTT side of this catalog (terminals see no HTTP status).
 */
export const connectRefusals = {
  client_id_mismatch: { returnCode: 2, message: 'client id must be the device id' },
  server_unavailable: { returnCode: 3, message: 'server unavailable' },
  bad_credentials: { returnCode: 4, message: 'bad user name or password' },
  revoked: { returnCode: 5, message: 'device revoked' },
} as const satisfies Record<string, { returnCode: number; message: string }>;

export type ConnectRefusal = keyof typeof connectRefusals;

/** A refused CONNECT; aedes sends `returnCode` in the CONNACK. */
export class ConnectRefused extends Error {
  readonly returnCode: number;
  constructor(
    readonly refusal: ConnectRefusal,
    options?: ErrorOptions,
  ) {
    super(connectRefusals[refusal].message, options);
    this.name = 'ConnectRefused';
    this.returnCode = connectRefusals[refusal].returnCode;
  }
}
