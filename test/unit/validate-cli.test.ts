import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validatePaths } from '../../src/validate-cli.ts';
import { invalidCases } from '../fixtures/specs.ts';

// The compiled CLI, as users run it (npm test builds it first). Not `node --import tsx src/cli.ts`:
// a process that exits right after loading, under tsx's module hooks, hung about once in 50 runs
// on Node 24 (seen here, 1 in 150 in a loop; and once in CI, where it blocked the run for good).
const CLI = 'dist/src/cli.js';
// spawnSync blocks the event loop, so mocha's own timeout cannot fire: the child needs a bound.
const cli = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });

/** A fresh directory with these files. */
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gaffer-validate-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** `gaffer <args>` as a CLI: its exit status, and text its stdout or stderr must contain. */
const cliCases: { name: string; args: () => string[]; status: number; stream: 'stdout' | 'stderr'; text: string }[] = [
  {
    name: 'validate exits 1 on errors, naming the field',
    args: () => ['validate', dirWith({ 'bad.yaml': stringify(invalidCases[0]!.build()) })],
    status: 1,
    stream: 'stdout',
    text: 'imagePullPolicyy',
  },
  {
    name: 'validate exits 0 when clean, with a count',
    args: () => ['validate', 'examples'],
    status: 0,
    stream: 'stdout',
    text: '14 Gaffer object(s) checked, 0 error(s)',
  },
  {
    name: 'an unknown command exits 2, naming it',
    args: () => ['frobnicate'],
    status: 2,
    stream: 'stderr',
    text: "unknown command 'frobnicate'",
  },
  {
    name: 'the operator exits non-zero on a bad flag, naming it',
    args: () => ['operator', '--workers=0'],
    status: 2,
    stream: 'stderr',
    text: '--workers: expected at least 1',
  },
];

describe('gaffer validate', () => {
  it('accepts every example', () => {
    const r = validatePaths(['examples']);
    expect(r.errors, r.lines.join('\n')).to.equal(0);
    expect(r.checked).to.equal(14); // examples/ and examples/real/
  });

  it('names the file, the document, the object and the field of each error, and skips other kinds', () => {
    const bad = invalidCases.find((c) => c.name === 'minReplicas above maxReplicas')!.build();
    const dir = dirWith({
      'app.yaml': `${stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })}---\n${stringify(bad)}`,
    });
    const r = validatePaths([dir]);
    expect(r).to.include({ checked: 1, errors: 1, skipped: 1 });
    expect(r.lines[0]).to.equal(
      `${join(dir, 'app.yaml')} (document 2): ComputeCluster/bad: spec.workers.minReplicas: minReplicas must not exceed maxReplicas`,
    );
  });

  describe('as a CLI', () => {
    before(() => {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    });
    for (const c of cliCases) {
      it(c.name, function () {
        this.timeout(30_000);
        const r = cli(c.args());
        expect(r.error, 'the CLI did not exit within 20 s').to.equal(undefined);
        expect(r.status).to.equal(c.status);
        expect(r[c.stream]).to.include(c.text);
      });
    }
  });
});
