// spec.ttlSecondsAfterFinished: a finished job (and what it owns) is deleted after this.
import { ms } from '../common/time.ts';
import type { JobContext, Outcome } from './context.ts';

export function ttlAfterFinished(ctx: JobContext, out: Outcome): void {
  const ttl = ctx.job.spec.ttlSecondsAfterFinished;
  if (ttl === undefined) return;
  const expires = (ms(out.status.completionTime) ?? out.now) + ttl * 1000;
  if (out.now >= expires) out.act({ kind: 'deleteJob' });
  else out.wake(expires);
}
