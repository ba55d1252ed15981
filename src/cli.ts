#!/usr/bin/env node
// gaffer CLI: `gaffer operator [flags]` runs the operator; `gaffer validate PATH...` checks manifests.
import { exitWhenDone, runOperator } from './main.ts';
import { runValidate } from './validate-cli.ts';

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'validate':
    process.exit(runValidate(rest));
  // falls through (exit never returns)
  case 'operator':
    exitWhenDone(runOperator(rest));
    break;
  case undefined:
  case '--help':
  case '-h':
  case 'help':
    process.stdout.write(
      'Usage: gaffer COMMAND\n\nCommands:\n  operator [flags]      run the operator (see gaffer operator --help)\n  validate PATH...      check ComputeCluster/ComputeJob manifests offline\n',
    );
    process.exit(command === undefined ? 2 : 0);
  // falls through
  default:
    process.stderr.write(`gaffer: unknown command '${command}' (try gaffer --help)\n`);
    process.exit(2);
}
