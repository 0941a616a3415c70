/**
 * Backups in S3-compatible storage through `@aws-sdk/client-s3` (loaded
 * when first used): one PutObject for a small file, a multipart upload
 * (parts of `partBytes`, aborted on any failure) for a large one; GetObject,
 * DeleteObject and ListObjectsV2. The endpoint is a setting (path-style
 * addressing), so any S3-compatible store — or a test's loopback server — works.
 */
import { AppError } from '@autoclaw/shared';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { BackupTarget } from './backup-target';

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  /** Only ever from the manager's sealed store (vault), never logged. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Files larger than this go as a multipart upload of parts this size (default 8 MiB; S3's minimum is 5 MiB). */
  partBytes?: number;
  /** Per request (default 60 s). */
  timeoutMs?: number;
}

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

const text = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function s3BackupTarget(s: S3Settings): BackupTarget & { close(): void } {
  const partBytes = Math.max(s.partBytes ?? DEFAULT_PART_BYTES, 5 * 1024 * 1024);
  const timeoutMs = s.timeoutMs ?? 60_000;
  let client: Promise<{ c: S3Sdk.S3Client; sdk: typeof S3Sdk }> | null = null;
  const sdk = () =>
    (client ??= import('@aws-sdk/client-s3').then((loaded) => {
      // A CommonJS package: bundled, its exports arrive as `default`.
      const m = 'S3Client' in loaded ? loaded : (loaded as { default: typeof loaded }).default;
      const c = new m.S3Client({
        endpoint: s.endpoint,
        region: s.region,
        forcePathStyle: true,
        credentials: s.credentials,
        // Many S3-compatible stores reject the SDK's newer default checksums; checksums are sent where S3 requires them.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 3,
      });
      return { sdk: m, c };
    }));
  const opts = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) });
  const fail = (what: string, key: string, err: unknown) => new AppError('INTERNAL', `S3 ${what} of ${key} failed: ${text(err)}`, { cause: err });

  async function putMultipart(key: string, data: Buffer): Promise<void> {
    const { c, sdk: m } = await sdk();
    const created = await c.send(new m.CreateMultipartUploadCommand({ Bucket: s.bucket, Key: key, ContentType: 'application/octet-stream' }), opts());
    const uploadId = created.UploadId;
    if (!uploadId) throw new AppError('INTERNAL', `S3 gave no upload id for ${key}`);
    try {
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let at = 0, n = 1; at < data.length; at += partBytes, n += 1) {
        const part = await c.send(new m.UploadPartCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: data.subarray(at, at + partBytes) }), opts());
        if (!part.ETag) throw new AppError('INTERNAL', `S3 gave no ETag for part ${n} of ${key}`);
        parts.push({ ETag: part.ETag, PartNumber: n });
      }
      await c.send(new m.CompleteMultipartUploadCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), opts());
    } catch (err) {
      await c.send(new m.AbortMultipartUploadCommand({ Bucket: s.bucket, Key: key, UploadId: uploadId }), opts()).catch(() => undefined);
      throw err;
    }
  }

  return {
    kind: 's3',
    async put(key, data) {
      try {
        if (data.length > partBytes) return await putMultipart(key, data);
        const { c, sdk: m } = await sdk();
        await c.send(new m.PutObjectCommand({ Bucket: s.bucket, Key: key, Body: data, ContentType: 'application/octet-stream' }), opts());
      } catch (err) {
        throw AppError.is(err) ? err : fail('upload', key, err);
      }
    },
    async get(key) {
      const { c, sdk: m } = await sdk();
      try {
        const out = await c.send(new m.GetObjectCommand({ Bucket: s.bucket, Key: key }), opts());
        if (!out.Body) throw new AppError('NOT_FOUND', `the backup file ${key} is empty in S3`);
        return Buffer.from(await out.Body.transformToByteArray());
      } catch (err) {
        if (err instanceof m.NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') throw new AppError('NOT_FOUND', `the backup file ${key} is missing in S3`, { cause: err });
        throw AppError.is(err) ? err : fail('download', key, err);
      }
    },
    async delete(key) {
      const { c, sdk: m } = await sdk();
      await c.send(new m.DeleteObjectCommand({ Bucket: s.bucket, Key: key }), opts()).catch((err: unknown) => {
        throw fail('delete', key, err);
      });
    },
    async list(prefix) {
      const { c, sdk: m } = await sdk();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await c.send(new m.ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }), opts()).catch((err: unknown) => {
          throw fail('listing', prefix, err);
        });
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    close() {
      void client?.then(({ c }) => c.destroy());
    },
  };
}
