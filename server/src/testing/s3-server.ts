/**
 * A loopback S3-compatible server for the real `@aws-sdk/client-s3` (path
 * style: /BUCKET/KEY): PutObject, GetObject, DeleteObject, ListObjectsV2
 * (XML, with prefix and continuation tokens), and multipart uploads
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload; parts but the last at least 5 MiB, as S3 demands).
 * Requests must carry a SigV4 Authorization header for the known access
 * key and a matching x-amz-content-sha256; errors are S3's XML bodies.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from './listen-local';

export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;

export interface S3Request {
  method: string;
  /** `PutObject`, `UploadPart`, … as the server understood it. */
  operation: string;
  key: string;
  bytes: number;
}

export interface S3Server {
  /** The endpoint to give the SDK (with forcePathStyle). */
  readonly url: string;
  readonly requests: S3Request[];
  /** The stored objects of the bucket. */
  readonly objects: Map<string, Buffer>;
  /** Multipart uploads not completed or aborted. */
  readonly openUploads: () => number;
  close(): Promise<void>;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function sendXml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text), 'x-amz-request-id': randomBytes(8).toString('hex'), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, resource: string): void {
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource></Error>`);
}

/** The body, with `aws-chunked` framing (the SDK's streaming checksums) taken off. */
function payloadOf(req: IncomingMessage, raw: Buffer): Buffer {
  if (!String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0] ?? '0', 16);
    if (!size) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export async function startS3Server(o: { bucket: string; accessKeyId: string; region?: string }): Promise<S3Server> {
  const objects = new Map<string, Buffer>();
  const uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  const requests: S3Request[] = [];

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const auth = String(req.headers.authorization ?? '');
    const cred = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.exec(auth);
    if (!cred) return sendError(res, 403, 'AccessDenied', 'a SigV4 Authorization header is required', url.pathname);
    if (cred[1] !== o.accessKeyId) return sendError(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', url.pathname);
    if (o.region && cred[2] !== o.region) return sendError(res, 400, 'AuthorizationHeaderMalformed', `the region '${cred[2]}' is wrong; expecting '${o.region}'`, url.pathname);
    const declared = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!declared) return sendError(res, 400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', url.pathname);
    if (/^[0-9a-f]{64}$/.test(declared) && declared !== sha256(raw)) return sendError(res, 400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', url.pathname);
    if (bucket !== o.bucket) return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', `/${bucket}`);
    const body = payloadOf(req, raw);
    const note = (operation: string) => requests.push({ method, operation, key, bytes: body.length });

    if (method === 'GET' && key === '' && q.get('list-type') === '2') {
      note('ListObjectsV2');
      const prefix = q.get('prefix') ?? '';
      const max = Math.min(Number(q.get('max-keys') ?? 1000) || 1000, 1000);
      const after = q.get('continuation-token') ? Buffer.from(q.get('continuation-token') as string, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, max);
      const truncated = keys.length > page.length;
      const contents = page
        .map((k) => `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5(objects.get(k) as Buffer)}"</ETag><Size>${(objects.get(k) as Buffer).length}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
        .join('');
      const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1) as string).toString('base64url')}</NextContinuationToken>` : '';
      return sendXml(
        res,
        200,
        `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
      );
    }
    if (key === '') return sendError(res, 400, 'InvalidRequest', 'this server speaks object and ListObjectsV2 requests only', url.pathname);

    if (method === 'POST' && q.has('uploads')) {
      note('CreateMultipartUpload');
      const uploadId = randomBytes(12).toString('base64url');
      uploads.set(uploadId, { key, parts: new Map() });
      return sendXml(res, 200, `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
    }
    const uploadId = q.get('uploadId');
    if (uploadId !== null) {
      const upload = uploads.get(uploadId);
      if (!upload || upload.key !== key) return sendError(res, 404, 'NoSuchUpload', 'The specified multipart upload does not exist.', url.pathname);
      if (method === 'PUT') {
        note('UploadPart');
        const n = Number(q.get('partNumber'));
        if (!Number.isInteger(n) || n < 1 || n > 10_000) return sendError(res, 400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', url.pathname);
        upload.parts.set(n, body);
        res.writeHead(200, { etag: `"${md5(body)}"`, 'content-length': 0 });
        return void res.end();
      }
      if (method === 'POST') {
        note('CompleteMultipartUpload');
        const listed = [...body.toString('utf8').matchAll(/<Part>\s*(?:<ETag>([^<]*)<\/ETag>\s*<PartNumber>(\d+)<\/PartNumber>|<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>)[\s\S]*?<\/Part>/g)].map((m) => ({
          n: Number(m[2] ?? m[3]),
          etag: (m[1] ?? m[4] ?? '').replace(/&quot;|&#34;/g, '"'),
        }));
        if (listed.length === 0) return sendError(res, 400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', url.pathname);
        const chunks: Buffer[] = [];
        for (const [i, p] of listed.entries()) {
          const part = upload.parts.get(p.n);
          if (!part || p.etag !== `"${md5(part)}"`) return sendError(res, 400, 'InvalidPart', 'One or more of the specified parts could not be found.', url.pathname);
          if (i > 0 && p.n <= (listed[i - 1] as { n: number }).n) return sendError(res, 400, 'InvalidPartOrder', 'The list of parts was not in ascending order.', url.pathname);
          if (i < listed.length - 1 && part.length < S3_MIN_PART_BYTES) return sendError(res, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', url.pathname);
          chunks.push(part);
        }
        const data = Buffer.concat(chunks);
        objects.set(key, data);
        uploads.delete(uploadId);
        return sendXml(res, 200, `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><ETag>"${md5(data)}-${listed.length}"</ETag></CompleteMultipartUploadResult>`);
      }
      if (method === 'DELETE') {
        note('AbortMultipartUpload');
        uploads.delete(uploadId);
        res.writeHead(204);
        return void res.end();
      }
    }
    if (method === 'PUT') {
      note('PutObject');
      objects.set(key, body);
      res.writeHead(200, { etag: `"${md5(body)}"`, 'content-length': 0 });
      return void res.end();
    }
    if (method === 'GET' || method === 'HEAD') {
      note(method === 'GET' ? 'GetObject' : 'HeadObject');
      const data = objects.get(key);
      if (!data) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', url.pathname);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length, etag: `"${md5(data)}"`, 'last-modified': new Date().toUTCString() });
      return void res.end(method === 'GET' ? data : undefined);
    }
    if (method === 'DELETE') {
      note('DeleteObject');
      objects.delete(key);
      res.writeHead(204);
      return void res.end();
    }
    return sendError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', url.pathname);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  const listener = await listenLocal(server);
  return { url: `http://127.0.0.1:${listener.port}`, requests, objects, openUploads: () => uploads.size, close: () => listener.close() };
}
