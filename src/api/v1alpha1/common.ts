// Schema pieces shared by both kinds (docs/api.md).
import { int, list, obj, oneOf, opt, str, time, type Static } from './dsl.ts';

const BACKOFF_DEFAULTS = { initialSeconds: 10, maxSeconds: 360 };

/** A doubling delay, `description` saying what it delays and when its streak resets. */
export const backoffSchema = (description: string) =>
  obj(
    {
      initialSeconds: opt(
        int({
          minimum: 1,
          maximum: 86400,
          description: 'First delay, in seconds; it doubles with each further failure in the streak.',
        }),
        { default: BACKOFF_DEFAULTS.initialSeconds },
      ),
      maxSeconds: opt(
        int({ minimum: 1, maximum: 86400, description: 'Upper bound of the doubling delay, in seconds.' }),
        { default: BACKOFF_DEFAULTS.maxSeconds },
      ),
    },
    {
      description,
      rules: [
        {
          rule: 'self.initialSeconds <= self.maxSeconds',
          message: 'initialSeconds must not exceed maxSeconds',
          fieldPath: '.initialSeconds',
          check: (b: { initialSeconds: number; maxSeconds: number }) => b.initialSeconds <= b.maxSeconds,
        },
      ],
    },
  );
export type Backoff = Static<ReturnType<typeof backoffSchema>>;

/**
 * An optional backoff, defaulted as a whole: the API server checks a default against the
 * rules as written, before nested defaults.
 */
export const backoffField = (description: string) => opt(backoffSchema(description), { default: BACKOFF_DEFAULTS });

const conditionStatus = oneOf(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' });

/** A metav1.Condition, as kstatus, Flux and Argo CD read it. */
export const conditionSchema = obj({
  type: str({ maxLength: 316, description: 'Condition type, such as Ready; one condition of each type.' }),
  status: conditionStatus,
  reason: str({
    maxLength: 1024,
    description: 'Why the condition has its status, in CamelCase (such as MasterRestartLimit); docs/api.md lists them.',
  }),
  message: str({ maxLength: 32768, description: 'Human-readable details; empty when there is nothing to add.' }),
  lastTransitionTime: time({ description: 'When status last changed (not when the condition was last written).' }),
  observedGeneration: opt(
    int({ minimum: 0, format: 'int64', description: 'The metadata.generation the condition was computed from.' }),
  ),
});
export type Condition = Static<typeof conditionSchema>;

/** The conditions list of a kind, `types` naming the condition types it writes. */
export const conditionsSchema = (types: string) =>
  list(conditionSchema, {
    maxItems: 16,
    listType: 'map',
    listMapKeys: ['type'],
    description: `kstatus conditions, one of each type: ${types}. kubectl wait --for=condition=Ready works on them.`,
  });
