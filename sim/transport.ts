/**
 * The wire of the simulated AWS account: an SDK v3 `requestHandler` that answers the real clients'
 * serialized HTTP requests, so every test goes through the SDK's own serializers, deserializers,
 * error classes and retry strategy. Services plug in as `SimService`s that work on plain JSON.
 *
 * Protocols (as the SDK models declare them): ECR and ECS speak awsJson1_1 (`X-Amz-Target`), DynamoDB
 * awsJson1_0 (answered with the JSON version it was asked in), Lambda restJson1 (routes mapped by the Lambda
 * service itself), SNS awsQuery (form body, XML answer).
 */
import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';

/** An AWS error as the service would return it: the SDK turns `code` into its exception class. */
export class SimAwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** more members of the error shape, e.g. DynamoDB's `CancellationReasons` (JSON protocols only) */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** A recorded call, for counting and for asserting what the guard asked. */
export interface SimCall {
  readonly service: string;
  readonly operation: string;
  readonly input: unknown;
  readonly atMs: number;
  /** the error code answered, if any */
  readonly error?: string;
}

export interface SimService {
  /** `ecr`, `ecs`, `lambda`, `sns` */
  readonly name: string;
  /** host prefix the SDK uses for this service: `api.ecr`, `ecs`, `lambda`, `sns` */
  readonly hostPrefix: string;
  /** For REST services: map a request to an operation and its input. JSON services leave it out. */
  route?(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): { operation: string; input: unknown };
  /** awsQuery services: the namespace of their XML answers (SNS's when absent) */
  readonly xmlNamespace?: string;
  /**
   * Answer one call: the output object, or throw `SimAwsError`. `request` is the signed HTTP request, for
   * services that act on who calls (STS reads the caller from the SigV4 credential).
   */
  handle(operation: string, input: any, request?: HttpRequest): unknown | Promise<unknown>;
}

/** A fault to inject: the next `times` matching calls fail with `code`. */
export interface SimFault {
  readonly service: string;
  readonly operation?: string;
  readonly code: string;
  readonly status?: number;
  times: number;
  readonly match?: (input: any) => boolean;
}

/** The call a service is about to answer, as an interceptor sees it. */
export interface SimCallContext {
  readonly service: string;
  readonly operation: string;
  readonly input: any;
}

/**
 * Wraps how a registered service answers one call. Call `answer()` to let the service act (its effect is
 * applied synchronously for the simulated services) and return its output, or a replacement output.
 * Throw `SimAwsError` to answer with an AWS error; throw anything else to reject the request as the HTTP
 * layer would (e.g. `TimeoutError`), before or after the service acted. Await to let concurrent calls run.
 */
export type SimInterceptor = (call: SimCallContext, answer: () => Promise<unknown>) => Promise<unknown>;

export interface TransportOptions {
  /** real delay added to every call, in milliseconds (0 = none) */
  readonly latencyMs?: number;
}

export class SimTransport {
  readonly calls: SimCall[] = [];
  private readonly services: SimService[] = [];
  private readonly faults: SimFault[] = [];
  private readonly interceptors: SimInterceptor[] = [];
  private readonly startedAt = Date.now();
  latencyMs: number;
  /** called before each call is answered; may throw `SimAwsError` (e.g. a throttling model) */
  beforeCall?: ((service: string, operation: string) => void) | undefined;

  constructor(options: TransportOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  /**
   * Adds an interceptor around every answered call (after `beforeCall` and injected faults); the first
   * added is the outermost, unless `outermost` puts this one outside all others. Returns a function that removes it.
   */
  addInterceptor(interceptor: SimInterceptor, options: { readonly outermost?: boolean } = {}): () => void {
    if (options.outermost) this.interceptors.unshift(interceptor);
    else this.interceptors.push(interceptor);
    return () => {
      const index = this.interceptors.indexOf(interceptor);
      if (index >= 0) this.interceptors.splice(index, 1);
    };
  }

  register(service: SimService): void {
    this.services.push(service);
  }

  injectFault(fault: SimFault): void {
    this.faults.push(fault);
  }

  callCount(service?: string, operation?: string): number {
    return this.calls.filter((c) => (!service || c.service === service) && (!operation || c.operation === operation))
      .length;
  }

  /** The SDK v3 request handler. Pass it as `requestHandler` in any client's configuration. */
  readonly requestHandler = {
    handle: async (request: HttpRequest): Promise<{ response: HttpResponse }> => this.answer(request),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };

  private async answer(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const service = this.services.find((s) => request.hostname.startsWith(`${s.hostPrefix}.`));
    if (!service) throw new Error(`simulated account: no service for host ${request.hostname}`);
    const bodyText = await readBody(request.body);
    const protocol = protocolOf(request);
    let operation: string;
    let input: unknown;
    if (protocol === 'json') {
      operation =
        String(request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'])
          .split('.')
          .pop() ?? '';
      input = bodyText ? JSON.parse(bodyText) : {};
    } else if (protocol === 'query') {
      const form = new URLSearchParams(bodyText);
      operation = form.get('Action') ?? '';
      input = Object.fromEntries(form.entries());
    } else {
      if (!service.route) throw new Error(`simulated ${service.name}: REST request but no route()`);
      const query = Object.fromEntries(
        Object.entries(request.query ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]),
      );
      ({ operation, input } = service.route(
        request.method,
        request.path,
        query,
        bodyText ? JSON.parse(bodyText) : undefined,
      ));
    }
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const atMs = Date.now() - this.startedAt;
    try {
      this.beforeCall?.(service.name, operation);
      const fault = this.faults.find(
        (f) =>
          f.times > 0 &&
          f.service === service.name &&
          (!f.operation || f.operation === operation) &&
          (!f.match || f.match(input)),
      );
      if (fault) {
        fault.times -= 1;
        throw new SimAwsError(fault.code, `injected fault: ${fault.code}`, fault.status ?? 400);
      }
      const call: SimCallContext = { service: service.name, operation, input };
      const output = await this.interceptors.reduceRight<() => Promise<unknown>>(
        (inner, interceptor) => () => interceptor(call, inner),
        async () => service.handle(operation, input, request),
      )();
      this.calls.push({ service: service.name, operation, input, atMs });
      return {
        response: withJsonVersionOf(request, encodeOutput(protocol, operation, output, service.xmlNamespace)),
      };
    } catch (error) {
      if (!(error instanceof SimAwsError)) throw error;
      this.calls.push({ service: service.name, operation, input, atMs, error: error.code });
      return { response: withJsonVersionOf(request, encodeError(protocol, error)) };
    }
  }
}

/**
 * An AWS error answered before any service acts (an unknown or expired access key, a denied action), in the
 * protocol the request was made in, so the SDK raises its own exception class for it.
 */
export function errorResponseFor(request: HttpRequest, error: SimAwsError): HttpResponse {
  return withJsonVersionOf(request, encodeError(protocolOf(request), error));
}

type Protocol = 'json' | 'query' | 'rest';

/** awsJson1_0 services (DynamoDB) are answered in `application/x-amz-json-1.0`, as they are asked. */
function withJsonVersionOf(request: HttpRequest, response: HttpResponse): HttpResponse {
  const asked = String(request.headers['content-type'] ?? request.headers['Content-Type'] ?? '');
  if (asked === 'application/x-amz-json-1.0' && response.headers['content-type'] === 'application/x-amz-json-1.1') {
    response.headers['content-type'] = asked;
  }
  return response;
}

function protocolOf(request: HttpRequest): Protocol {
  const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
  if (target) return 'json';
  const contentType = String(request.headers['content-type'] ?? request.headers['Content-Type'] ?? '');
  if (contentType.startsWith('application/x-www-form-urlencoded')) return 'query';
  return 'rest';
}

async function readBody(body: unknown): Promise<string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  throw new Error('simulated account: unreadable request body');
}

/** JSON protocols carry timestamps as epoch seconds. */
function toWireJson(value: unknown): string {
  // JSON.stringify calls Date#toJSON before the replacer sees the value, so read the raw value from the holder.
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });
}

function encodeOutput(protocol: Protocol, operation: string, output: unknown, xmlNamespace?: string): HttpResponse {
  if (protocol === 'query') {
    const inner = queryXmlMembers(output);
    const namespace = xmlNamespace ?? 'http://sns.amazonaws.com/doc/2010-03-31/';
    const xml = `<${operation}Response xmlns="${namespace}"><${operation}Result>${inner}</${operation}Result><ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></${operation}Response>`;
    return new HttpResponse({ statusCode: 200, headers: { 'content-type': 'text/xml' }, body: streamOf(xml) });
  }
  const contentType = protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json';
  return new HttpResponse({
    statusCode: 200,
    headers: { 'content-type': contentType, 'x-amzn-requestid': 'sim' },
    body: streamOf(toWireJson(output ?? {})),
  });
}

function encodeError(protocol: Protocol, error: SimAwsError): HttpResponse {
  if (protocol === 'query') {
    const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>sim</RequestId></ErrorResponse>`;
    return new HttpResponse({ statusCode: error.status, headers: { 'content-type': 'text/xml' }, body: streamOf(xml) });
  }
  return new HttpResponse({
    statusCode: error.status,
    headers: {
      'content-type': protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json',
      'x-amzn-errortype': error.code,
      'x-amzn-requestid': 'sim',
    },
    body: streamOf(JSON.stringify({ __type: error.code, message: error.message, ...error.fields })),
  });
}

/** awsQuery answers: structures nest as elements, timestamps are ISO 8601 (STS `Credentials.Expiration`). */
function queryXmlMembers(value: unknown): string {
  return Object.entries((value ?? {}) as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (v instanceof Date) return `<${k}>${v.toISOString()}</${k}>`;
      if (typeof v === 'object' && v !== null) return `<${k}>${queryXmlMembers(v)}</${k}>`;
      return `<${k}>${escapeXml(String(v))}</${k}>`;
    })
    .join('');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Response bodies as the node HTTP handler delivers them: a readable stream. */
function streamOf(text: string): Readable {
  return Readable.from([Buffer.from(text, 'utf8')]);
}
