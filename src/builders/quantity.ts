// Kubernetes resource quantities ("500m", "2Gi", "1.5", "1e3"), summed exactly: a gang's
// PodGroup carries the resources of its minimum members (minResources), which the batch
// schedulers check against free capacity or a queue's quota before placing any pod (pure).
import type { V1Container, V1PodSpec } from '../kube/types.ts';

/** Nano-units per unit: a quantity is kept as a whole number of them (finer fractions round up). */
const NANO = 1_000_000_000n;

const DECIMAL: Record<string, bigint> = {
  n: 1n,
  u: 1_000n,
  m: 1_000_000n,
  '': NANO,
  k: NANO * 1_000n,
  M: NANO * 1_000_000n,
  G: NANO * 1_000_000_000n,
  T: NANO * 1_000_000_000_000n,
  P: NANO * 1_000_000_000_000_000n,
  E: NANO * 1_000_000_000_000_000_000n,
};
const BINARY: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };

/** Beyond int64 of whole units (Kubernetes' own limit), or 10^±this: not taken as a quantity. */
const MAX_VALUE = (2n ** 63n - 1n) * NANO;
const MAX_EXPONENT = 18;
/** Digits of a mantissa beyond this are not taken either (the API server caps its precision too). */
const MAX_DIGITS = 40;

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/;

/** A quantity in nano-units, or undefined when it is not one (the API server has validated pod templates). */
export function parseQuantity(q: string | number): bigint | undefined {
  const text = String(q).trim();
  const m = text.length <= MAX_DIGITS + 8 ? QUANTITY.exec(text) : null;
  if (!m) return undefined;
  const [, sign, num, suffix = '', exp] = m as unknown as [string, string, string, string?, string?];
  const [whole = '', frac = ''] = num.split('.');
  // The mantissa as an integer over 10^frac.length.
  const mantissa = BigInt((whole || '0') + frac);
  let scale = 10n ** BigInt(frac.length);
  let factor: bigint;
  if (exp !== undefined) {
    const e = Number(exp);
    // Kubernetes keeps a quantity within int64: a larger exponent is no quantity here (and
    // 10n ** 1e9 would hold the event loop).
    if (Math.abs(e) > MAX_EXPONENT) return undefined;
    factor = e >= 0 ? NANO * 10n ** BigInt(e) : NANO;
    if (e < 0) scale *= 10n ** BigInt(-e);
  } else if (suffix in BINARY) factor = NANO << BINARY[suffix]!;
  else factor = DECIMAL[suffix]!;
  const value = (mantissa * factor + scale - 1n) / scale; // rounded up
  if (value > MAX_VALUE) return undefined;
  return sign === '-' ? -value : value;
}

/** A quantity in nano-units as the shortest exact string: whole units, else milli-units, else nano-units. */
export function formatQuantity(n: bigint): string {
  if (n % NANO === 0n) return `${n / NANO}`;
  if (n % 1_000_000n === 0n) return `${n / 1_000_000n}m`;
  return `${n}n`;
}

export type Resources = Record<string, bigint>;

const add = (a: Resources, b: Resources, times = 1n): Resources => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0n) + v * times;
  return out;
};

const max = (a: Resources, b: Resources): Resources => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) if (v > (out[k] ?? 0n)) out[k] = v;
  return out;
};

/** A container's requests; where it sets only a limit, the limit (Kubernetes defaults the request to it). */
function containerRequests(c: V1Container): Resources {
  const out: Resources = {};
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const [k, v] of Object.entries({ ...limits, ...requests })) {
    const n = parseQuantity(v as string);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/**
 * What the scheduler reserves for one pod (the pod resource formula): its containers and its
 * sidecars (init containers that keep running), or, where more, an init container with the
 * sidecars started before it; plus the pod overhead.
 */
export function podRequests(spec: V1PodSpec | undefined): Resources {
  let sidecars: Resources = {};
  let peak: Resources = {};
  for (const init of spec?.initContainers ?? []) {
    const r = containerRequests(init);
    if (init.restartPolicy === 'Always') sidecars = add(sidecars, r);
    else peak = max(peak, add(sidecars, r));
  }
  const running = (spec?.containers ?? []).reduce((sum, c) => add(sum, containerRequests(c)), sidecars);
  // Pod-level resources (spec.resources, PodLevelResources) are the pod's for what they name.
  const podLevel = containerRequests({ name: '', resources: spec?.resources });
  const overhead: Resources = {};
  for (const [k, v] of Object.entries(spec?.overhead ?? {})) {
    const n = parseQuantity(v as string);
    if (n !== undefined) overhead[k] = n;
  }
  return add({ ...max(running, peak), ...podLevel }, overhead);
}

/** `count` pods of this spec added to `sum`. */
export const addPods = (sum: Resources, spec: V1PodSpec | undefined, count: number): Resources =>
  count > 0 ? add(sum, podRequests(spec), BigInt(count)) : sum;

/** As a ResourceList, keys sorted, zero amounts left out. */
export function resourceList(r: Resources): Record<string, string> {
  return Object.fromEntries(
    Object.keys(r)
      .filter((k) => r[k] !== 0n)
      .sort()
      .map((k) => [k, formatQuantity(r[k]!)]),
  );
}
