// The operator process: flags -> operator -> run until SIGTERM/SIGINT.
import { ConfigError, helpText, parseConfig } from './config.ts';
import { apiErrorFields, errorMessage } from './kube/errors.ts';
import { buildOperator } from './operator.ts';
import { createLogger } from './runtime/logger.ts';

/** Where an unexpected error came from: its stack, if it has one. */
const stackOf = (e: unknown): string | undefined => (e instanceof Error ? e.stack : undefined);

/** Runs the operator; resolves with an exit code, or -1 while it keeps running. */
export async function runOperator(argv: string[]): Promise<number> {
  let cfg;
  try {
    cfg = parseConfig(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gaffer: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (cfg === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  const log = createLogger(cfg.logLevel, { app: 'gaffer' });
  const op = buildOperator(cfg, log);
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    log.info('signal received', { signal });
    op.manager.shutdown().then(
      () => process.exit(0),
      (e) => {
        log.error('shutdown failed', { error: apiErrorFields(e), stack: stackOf(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (e) =>
    log.error('unhandled rejection', { error: apiErrorFields(e), stack: stackOf(e) }),
  );
  await op.manager.start();
  log.info('operator started', {
    identity: cfg.identity,
    leaderElect: cfg.leaderElect,
    namespaces: cfg.namespaces.length ? cfg.namespaces : 'all',
  });
  return -1; // keep running
}

export function exitWhenDone(p: Promise<number>): void {
  p.then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (e) => {
      process.stderr.write(`gaffer: ${stackOf(e) ?? errorMessage(e)}\n`);
      process.exit(1);
    },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) exitWhenDone(runOperator(process.argv.slice(2)));
