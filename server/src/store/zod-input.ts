/** Re-checking input with a shared zod schema at the store's door: a failure is a BAD_REQUEST naming the field. */
import { AppError } from '@autoclaw/shared';

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

export function zodInput<T>(schema: Schema<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : what;
  throw new AppError('BAD_REQUEST', `invalid ${what}: ${where}: ${issue?.message ?? 'not valid'}`);
}
