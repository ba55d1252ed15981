// The benchmark's memory cgroup takes its limit from the chart as a Kubernetes quantity.
import { expect } from 'chai';
import { chartMemoryLimit, quantityBytes } from '../../hack/bench/cgroup.ts';

describe('bench memory limit', () => {
  const cases: [string, number][] = [
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['256M', 256e6],
    ['268435456', 268435456],
    ['64Ki', 65536],
  ];
  for (const [q, bytes] of cases) it(`${q} is ${bytes} bytes`, () => expect(quantityBytes(q)).to.equal(bytes));
  for (const bad of ['', 'lots', '512MiB', '-1Gi'])
    it(`refuses ${JSON.stringify(bad)} naming the fix`, () =>
      expect(() => quantityBytes(bad)).to.throw(/e\.g\. 512Mi/));
  it("reads the chart's resources.limits.memory", () => expect(quantityBytes(chartMemoryLimit())).to.be.greaterThan(0));
});
