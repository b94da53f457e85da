/** RFC 9457 problem details. `type` is stable per kind of error so clients can branch on it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** For validation errors: each offending field and what is wrong with it. */
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://shiftops.dev/problems/';

export const problemTypes = {
  validation: { status: 400, title: 'Invalid request' },
  'bad-request': { status: 400, title: 'Bad request' },
  'invalid-json': { status: 400, title: 'Malformed JSON body' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'uri-too-long': { status: 414, title: 'URI too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unprocessable-content': { status: 422, title: 'Unprocessable content' },
  'header-fields-too-large': { status: 431, title: 'Request header fields too large' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  internal: { status: 500, title: 'Internal server error' },
} as const;

export type ProblemKind = keyof typeof problemTypes;

/** An error that the error handler turns into problem+json as is. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly problem: ProblemDetails;
  readonly headers: Record<string, string>;

  constructor(
    kind: ProblemKind,
    detail: string,
    extra: Partial<ProblemDetails> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    const { status, title } = problemTypes[kind];
    this.status = status;
    this.headers = headers;
    this.problem = { type: TYPE_BASE + kind, title, status, detail, ...extra };
  }
}

export const notFound = (resource: string, id: string) =>
  new HttpProblem('not-found', `${resource} ${id} does not exist`);

export const conflict = (detail: string, field?: string) =>
  new HttpProblem('conflict', detail, field ? { errors: [{ field, message: detail }] } : {});

export const invalid = (field: string, message: string) =>
  new HttpProblem('validation', `${field} ${message}`, { errors: [{ field, message }] });

/**
 * A request the schema accepts that breaks a rule across fields (an end before its start): 422,
 * since no schema can state such a rule and a client that checked the document did nothing wrong
 * in form.
 */
export const unprocessable = (field: string, message: string) =>
  new HttpProblem('unprocessable-content', `${field} ${message}`, { errors: [{ field, message }] });

export const preconditionFailed = (detail: string) =>
  new HttpProblem('precondition-failed', detail);
