// Status helpers shared by both controllers.
import { stableStringify } from '../../builders/hash.ts';
import type { FieldError } from '../../api/v1alpha1/index.ts';
import type { CustomResourceRef, KubeClient } from '../../kube/client.ts';
import { setConditions } from './conditions.ts';

/** Equal for the purpose of writing: a status is written only when it changed. */
export const statusEqual = (a: unknown, b: unknown) => stableStringify(a ?? {}) === stableStringify(b ?? {});

/**
 * What only the controller can reject (the CRD normally catches it first): Stalled=True with
 * the fields named, and nothing running is touched. Written only when it changed.
 */
export async function stallInvalidSpec(
  client: KubeClient,
  ref: CustomResourceRef,
  obj: any,
  errors: FieldError[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const message = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  const status = {
    ...(obj.status ?? {}),
    ...extra,
    observedGeneration: obj.metadata.generation,
    conditions: setConditions(
      obj.status?.conditions,
      [
        { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
        { type: 'Reconciling', status: 'False', reason: 'Stalled', message: 'waiting for a valid spec' },
        { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message },
      ],
      obj.metadata.generation,
      new Date(),
    ),
  };
  if (!statusEqual(status, obj.status)) await client.replaceStatus(ref, { ...obj, status });
}
