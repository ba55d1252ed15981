#!/usr/bin/env node
// gaffer CLI: `gaffer operator [flags]` runs the operator; `gaffer validate PATH...` checks manifests.
// Each command loads only its own modules: the operator never loads the validator's YAML parser.
const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'validate': {
    const { runValidate } = await import('./validate-cli.ts');
    process.exit(runValidate(rest));
  }
  // falls through (exit never returns)
  case 'operator': {
    const { exitWhenDone, runOperator } = await import('./main.ts');
    exitWhenDone(runOperator(rest));
    break;
  }
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
