// Schema pieces shared by both kinds.
import { int, list, obj, oneOf, opt, str, time, type Static } from './dsl.ts';

export const backoffSchema = (what: string) =>
  obj(
    {
      initialSeconds: opt(
        int({
          minimum: 1,
          maximum: 86400,
          default: 10,
          description: `First delay before ${what}, in seconds; doubles each time.`,
        }),
      ),
      maxSeconds: opt(
        int({
          minimum: 1,
          maximum: 86400,
          default: 360,
          description: 'Upper bound of the doubling delay, in seconds.',
        }),
      ),
    },
    {
      // The API server checks a default against the rules as written, before nested defaults.
      default: { initialSeconds: 10, maxSeconds: 360 },
      description: `Exponential backoff before ${what}.`,
      rules: [
        {
          rule: 'self.initialSeconds <= self.maxSeconds',
          message: 'initialSeconds must not exceed maxSeconds',
          fieldPath: '.initialSeconds',
          check: (b: { initialSeconds?: number; maxSeconds?: number }) =>
            (b.initialSeconds ?? 10) <= (b.maxSeconds ?? 360),
        },
      ],
    },
  );
export type Backoff = Static<ReturnType<typeof backoffSchema>>;

const conditionStatus = oneOf(['True', 'False', 'Unknown'] as const);

/** A metav1.Condition, as kstatus, Flux and Argo CD read it. */
export const conditionSchema = obj({
  type: str({ maxLength: 316 }),
  status: conditionStatus,
  reason: str({ maxLength: 1024 }),
  message: str({ maxLength: 32768 }),
  lastTransitionTime: time(),
  observedGeneration: opt(int({ minimum: 0, format: 'int64' })),
});
export type Condition = Static<typeof conditionSchema>;

export const conditionsSchema = list(conditionSchema, {
  maxItems: 16,
  listType: 'map',
  listMapKeys: ['type'],
  description: "kstatus conditions: Ready, Reconciling, Stalled, and the kind's own.",
});
