import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validatePaths } from '../../src/validate-cli.ts';
import { invalidCases } from '../fixtures/specs.ts';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { encoding: 'utf8' });

describe('gaffer validate', () => {
  it('accepts every example', () => {
    const r = validatePaths(['examples']);
    expect(r.errors, r.lines.join('\n')).to.equal(0);
    expect(r.checked).to.equal(12); // examples/ and examples/real/
  });

  it('names the file, the document, the object and the field of each error, and skips other kinds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaffer-validate-'));
    const bad = invalidCases.find((c) => c.name === 'minReplicas above maxReplicas')!.build();
    writeFileSync(
      join(dir, 'app.yaml'),
      `${stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })}---\n${stringify(bad)}`,
    );
    const r = validatePaths([dir]);
    expect(r).to.include({ checked: 1, errors: 1, skipped: 1 });
    expect(r.lines[0]).to.equal(
      `${join(dir, 'app.yaml')} (document 2): ComputeCluster/bad: spec.workers.minReplicas: minReplicas must not exceed maxReplicas`,
    );
  });

  it('exits 1 on errors and 0 when clean, as a CLI', function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'gaffer-validate-'));
    writeFileSync(join(dir, 'bad.yaml'), stringify(invalidCases[0]!.build()));
    const bad = cli(['validate', dir]);
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.include('imagePullPolicyy');
    const good = cli(['validate', 'examples']);
    expect(good.status).to.equal(0);
    expect(good.stdout).to.include('12 Gaffer object(s) checked, 0 error(s)');
    const unknown = cli(['frobnicate']);
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.include("unknown command 'frobnicate'");
  });

  it('the operator exits non-zero on a bad flag, naming it', function () {
    this.timeout(30_000);
    const r = cli(['operator', '--workers=0']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('--workers: expected at least 1');
  });
});
