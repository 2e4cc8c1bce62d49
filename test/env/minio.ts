// A real S3 server for restic on a loopback port: MinIO (built by build-tools.sh) with one bucket.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheBinDir } from './controlplane.ts';
import { freePort, logTail, startManaged, waitFor } from './processes.ts';

export interface Minio {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** Region restic and other S3 clients must sign with. */
  region: string;
  logPath: string;
  /** Every object under a prefix of the bucket, with its size (ListObjectsV2, all pages). */
  objects(prefix: string): Promise<{ key: string; size: number }[]>;
  /** Overwrites an object (a test that damages a repository). */
  put(key: string, body: Buffer): Promise<void>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

const encode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Sends an S3 request, signed with AWS Signature Version 4. */
async function s3Request(method: string, url: URL, accessKey: string, secretKey: string, body: Buffer = Buffer.alloc(0)): Promise<Response> {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const canonicalHeaders = Object.keys(headers)
    .sort()
    .map((name) => `${name}:${headers[name]}\n`)
    .join('');
  const query = [...url.searchParams].map(([k, v]) => `${encode(k)}=${encode(v)}`).sort().join('&');
  const canonicalRequest = [method, url.pathname, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), REGION), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  const authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  const { host: _host, ...sent } = headers;
  return fetch(url, { method, headers: { ...sent, authorization }, ...(body.length > 0 ? { body } : {}) });
}

export async function startMinio(opts: { dir: string; bucket?: string; log?: (line: string) => void }): Promise<Minio> {
  const log = opts.log ?? (() => {});
  const bucket = opts.bucket ?? 'backsnap';
  const [port, consolePort] = [await freePort(), await freePort()];
  const dataDir = join(opts.dir, 'minio-data');
  mkdirSync(dataDir, { recursive: true });
  // Random, so a leak check can tell it from names like the test StorageClass.
  const accessKey = `minio-${randomBytes(8).toString('hex')}`;
  const secretKey = randomBytes(16).toString('hex');
  const p = startManaged({
    name: 'minio',
    command: join(cacheBinDir(), 'minio'),
    args: ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    logPath: join(opts.dir, 'minio.log'),
    env: {
      ...process.env,
      MINIO_ROOT_USER: accessKey,
      MINIO_ROOT_PASSWORD: secretKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      MINIO_REGION: REGION,
    },
  });
  log(`started minio (pid ${p.child.pid}, log ${p.logPath})`);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    const failFast = (): string | undefined =>
      p.child.exitCode === null && p.child.signalCode === null ? undefined : `minio exited; log ${p.logPath}:\n${logTail(p.logPath)}`;
    await waitFor('minio /minio/health/ready', async () => ((await fetch(`${endpoint}/minio/health/ready`)).ok ? true : undefined), {
      timeoutMs: 60_000,
      failFast,
    });
    // /health/ready can answer before the object layer is up (CI saw a 503 XMinioServerNotInitialized
    // right after it), so creating the bucket is retried; a lasting error ends the wait with its message.
    await waitFor(
      `minio bucket ${bucket}`,
      async () => {
        const res = await s3Request('PUT', new URL(`/${bucket}`, endpoint), accessKey, secretKey);
        const body = await res.text();
        if (res.ok || body.includes('BucketAlreadyOwnedByYou')) return true;
        throw new Error(`creating bucket ${bucket}: ${res.status} ${body}`);
      },
      { timeoutMs: 60_000, failFast },
    );
  } catch (error) {
    await p.stop();
    throw new Error(`minio failed to start (log ${p.logPath}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const objects = async (prefix: string): Promise<{ key: string; size: number }[]> => {
    const found: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const url = new URL(`/${bucket}`, endpoint);
      url.searchParams.set('list-type', '2');
      url.searchParams.set('prefix', prefix);
      if (token !== undefined) url.searchParams.set('continuation-token', token);
      const res = await s3Request('GET', url, accessKey, secretKey);
      const xml = await res.text();
      if (!res.ok) throw new Error(`listing ${prefix}: ${res.status} ${xml}`);
      for (const match of xml.matchAll(/<Contents>.*?<Key>(.*?)<\/Key>.*?<Size>(\d+)<\/Size>.*?<\/Contents>/gs)) found.push({ key: match[1] ?? '', size: Number(match[2]) });
      token = /<NextContinuationToken>(.*?)<\/NextContinuationToken>/.exec(xml)?.[1];
    } while (token !== undefined);
    return found;
  };
  const put = async (key: string, body: Buffer): Promise<void> => {
    const res = await s3Request('PUT', new URL(`/${bucket}/${key}`, endpoint), accessKey, secretKey, body);
    if (!res.ok) throw new Error(`putting ${key}: ${res.status} ${await res.text()}`);
  };
  return { endpoint, accessKey, secretKey, bucket, region: REGION, logPath: p.logPath, objects, put, stop: () => p.stop() };
}
