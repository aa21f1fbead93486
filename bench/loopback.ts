/**
 * The simulated account behind a loopback HTTP server, so that a handler in another process (the bundle as
 * deployed, with its own SDK clients pointed at the server through `AWS_ENDPOINT_URL`) can call it, and
 * that process's memory holds the handler alone. The service is read from the SigV4 credential scope of
 * each request (`…/<region>/<service>/aws4_request`), since every service shares the one endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest } from '@smithy/protocol-http';
import type { SimulatedAccount } from '../sim/account';

/** SigV4 signing name → the host prefix the simulated wire routes on. */
const HOST_PREFIX: Readonly<Record<string, string>> = { ecr: 'api.ecr', ecs: 'ecs', sns: 'sns', lambda: 'lambda' };

export async function serveAccount(account: SimulatedAccount): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
            String(req.headers.authorization ?? ''),
          );
          const prefix = scope ? HOST_PREFIX[scope[2]!] : undefined;
          if (!scope || !prefix) throw new Error(`cannot tell the service of ${req.method} ${req.url}`);
          const url = new URL(req.url ?? '/', 'http://127.0.0.1');
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
          const request = new HttpRequest({
            protocol: 'https:',
            hostname: `${prefix}.${scope[1]}.amazonaws.com`,
            method: req.method ?? 'POST',
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
          const { response } = await account.transport.requestHandler.handle(request);
          const body: Buffer[] = [];
          for await (const chunk of response.body as AsyncIterable<Buffer>) body.push(Buffer.from(chunk));
          res.writeHead(response.statusCode, response.headers);
          res.end(Buffer.concat(body));
        } catch (error) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
