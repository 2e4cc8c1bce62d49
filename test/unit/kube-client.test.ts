import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inClusterAccess, kubeconfigAccess, type Kubeconfig } from '../../src/kube/access.ts';
import { KubeApiError, kubeClient, listAll, type KubeClient } from '../../src/kube/rest.ts';
import { watchCollection } from '../../src/kube/watch-cache.ts';

const config = (user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://api.example:6443/' }): Kubeconfig => ({
  'current-context': 'c',
  contexts: [{ name: 'other', context: { cluster: 'x', user: 'x' } }, { name: 'c', context: { cluster: 'k', user: 'u' } }],
  clusters: [{ name: 'k', cluster }],
  users: [{ name: 'u', user }],
});

test('kubeconfig: token, token file, client certificate and CA, relative to the kubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  writeFileSync(join(dir, 'token'), 'from-file\n');
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const withToken = kubeconfigAccess(config({ token: 'abc' }, { server: 'https://api.example:6443/', 'certificate-authority': 'ca.pem' }), dir);
  assert.equal(withToken.server, 'https://api.example:6443');
  assert.equal(withToken.authorization(), 'Bearer abc');
  assert.equal(withToken.tls.ca?.toString(), 'CA');
  assert.equal(withToken.tls.rejectUnauthorized, true);
  assert.equal(kubeconfigAccess(config({ tokenFile: 'token' }), dir).authorization(), 'Bearer from-file');
  const withCert = kubeconfigAccess(config({ 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') }, { server: 'https://a', 'insecure-skip-tls-verify': true }), dir);
  assert.equal(withCert.authorization(), undefined);
  assert.equal(withCert.tls.cert?.toString(), 'CERT');
  assert.equal(withCert.tls.key?.toString(), 'KEY');
  assert.equal(withCert.tls.rejectUnauthorized, false);
});

test('kubeconfig: what it cannot use is refused with the reason', () => {
  for (const [user, message] of [
    [{ exec: { command: 'aws' } }, /exec plugin/],
    [{ 'auth-provider': { name: 'gcp' } }, /auth provider/],
  ] as const) assert.throws(() => kubeconfigAccess(config(user), '/'), message);
  assert.throws(() => kubeconfigAccess({ ...config({}), 'current-context': 'nope' }, '/'), /current-context "nope"/);
  assert.throws(() => kubeconfigAccess(config({}, {}), '/'), /has no server/);
});

test('in a Pod: the service account token and CA, the service host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sa-'));
  assert.equal(inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, dir), undefined, 'no CA file: not in a Pod');
  writeFileSync(join(dir, 'ca.crt'), 'CA');
  writeFileSync(join(dir, 'token'), 'sa-token');
  assert.equal(inClusterAccess({}, dir), undefined);
  const access = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '8443' }, dir);
  assert.equal(access?.server, 'https://[fd00::1]:8443');
  assert.equal(access.authorization(), 'Bearer sa-token');
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function withServer(handle: (seen: Seen, res: ServerResponse) => void, run: (client: KubeClient, seen: Seen[]) => Promise<void>): Promise<void> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      handle(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await run(kubeClient({ server: `http://127.0.0.1:${port}`, tls: { rejectUnauthorized: true }, authorization: () => 'Bearer t' }), seen);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('request: JSON both ways, a body with its length, the token, a Status as KubeApiError', async () => {
  await withServer(
    (seen, res) => {
      if (seen.method === 'DELETE') {
        res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'uid precondition failed' }));
      } else res.writeHead(200).end(JSON.stringify({ ok: seen.url }));
    },
    async (client, seen) => {
      assert.deepEqual(await client.request('GET', '/api/v1/namespaces', { query: { labelSelector: 'a=b' } }), { ok: '/api/v1/namespaces?labelSelector=a%3Db' });
      const error = await client.request('DELETE', '/x', { body: { preconditions: { uid: 'u' } } }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.status, 409);
      assert.equal(error.reason, 'Conflict');
      assert.equal(error.message, 'uid precondition failed');
      assert.equal(seen[1]?.headers['content-length'], String(seen[1]?.body.length));
      assert.deepEqual(JSON.parse(seen[1]?.body ?? ''), { preconditions: { uid: 'u' } });
      assert.equal(seen[0]?.headers.authorization, 'Bearer t');
    },
  );
});

test('listAll follows continue tokens and returns the last resourceVersion', async () => {
  await withServer(
    (seen, res) => {
      const page = new URL(seen.url, 'http://x').searchParams.get('continue');
      const body = page === null ? { items: [1, 2], metadata: { continue: 'p2', resourceVersion: '5' } } : { items: [3], metadata: { resourceVersion: '7' } };
      res.writeHead(200).end(JSON.stringify(body));
    },
    async (client, seen) => {
      assert.deepEqual(await listAll<number>(client, '/api/v1/pods', 'a=b', 2), { items: [1, 2, 3], resourceVersion: '7' });
      assert.equal(seen.length, 2);
      assert.match(seen[1]?.url ?? '', /continue=p2/);
      assert.match(seen[1]?.url ?? '', /limit=2/);
    },
  );
});

test('watchCollection: LIST, then events split across chunks; slimmed; a 410 ERROR lists again', async () => {
  const object = (name: string, rv: string) => ({ metadata: { name, namespace: 'n', resourceVersion: rv, managedFields: [{ manager: 'm' }] } });
  let lists = 0;
  await withServer(
    (seen, res) => {
      const url = new URL(seen.url, 'http://x');
      if (url.searchParams.get('watch') !== 'true') {
        lists += 1;
        res.writeHead(200).end(JSON.stringify({ items: [object('a', '1')], metadata: { resourceVersion: '1' } }));
        return;
      }
      if (lists === 1) {
        res.writeHead(200);
        const events = [{ type: 'ADDED', object: object('b', '2') }, { type: 'DELETED', object: object('a', '3') }, { type: 'ERROR', object: { kind: 'Status', code: 410 } }];
        const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
        res.write(text.slice(0, 30));
        setTimeout(() => res.end(text.slice(30)), 20);
      } else res.writeHead(200); // held open until the test ends
    },
    async (client, seen) => {
      const collection = watchCollection<{ metadata: { name: string; managedFields?: unknown } }>(client, { path: '/apis/x' }, () => {});
      try {
        // Wait for the second LIST's answer to be applied, not only for it to be asked for.
        const names = () => collection.items().map((o) => o.metadata.name).join(',');
        for (let i = 0; i < 200 && (lists < 2 || names() !== 'a'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.equal(lists, 2, 'the ERROR event made it list again');
        assert.deepEqual(collection.items().map((o) => o.metadata.name), ['a']);
        const watches = seen.filter((s) => s.url.includes('watch=true'));
        assert.match(watches[0]?.url ?? '', /resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=\d+/);
        assert.equal(collection.items()[0]?.metadata.managedFields, undefined);
      } finally {
        collection.stop();
      }
    },
  );
});
