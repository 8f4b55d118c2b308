#!/usr/bin/env node
// wembed command line: convert a model folder, embed / tokenize / score / search texts, show a model's info.
// `wembed --help` lists the commands and the exit status (0 ok, 1 runtime error, 2 usage error, 130 interrupted).
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { UsageError } from './cli/args.js';
import { bare, commands } from './cli/commands.js';
import { HELP, commandHelp, mainHelp } from './cli/help.js';
import { Progress } from './cli/progress.js';

function version() {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

// Commands that stop cleanly at the next batch on Ctrl-C (removing their partial output); others exit at once.
const ABORTABLE = new Set(['embed', 'tokenize', 'search', 'score']);
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };  // exit status 128 + number, as shells report

/**
 * Runs the CLI; returns the exit status.
 * @param {string[]} argv arguments after "node cli.js"
 */
async function main(argv, { stdin = process.stdin, stdout = process.stdout, stderr = process.stderr } = {}) {
  let quiet = false, i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '-h' || a === '--help') { stdout.write(mainHelp(version())); return 0; }
    else if (a === '--version' || a === '-V') { stdout.write(`wembed ${version()}\n`); return 0; }
    else break;
  }
  const [cmd, ...rest] = argv.slice(i);
  if (cmd === undefined) {
    stderr.write(`wembed: missing command\n\n${mainHelp(version())}`);
    return 2;
  }
  if (cmd === 'help') {
    if (rest.length === 0) { stdout.write(mainHelp(version())); return 0; }
    if (HELP[rest[0]]) { stdout.write(commandHelp(rest[0])); return 0; }
    stderr.write(`wembed: unknown command "${rest[0]}" (commands: ${Object.keys(HELP).join(', ')})\n`);
    return 2;
  }
  if (!Object.hasOwn(commands, cmd)) {
    stderr.write(`wembed: unknown ${cmd.startsWith('-') ? 'option' : 'command'} "${cmd}" (commands: ${Object.keys(HELP).join(', ')}; wembed --help)\n`);
    return 2;
  }

  let active = null;
  const aborter = new AbortController();
  const ctx = {
    stdin, stdout, stderr, quiet, signal: aborter.signal,
    progress(label, { total = null, unit, quiet: q = false, toStdout = false } = {}) {
      // A bar redrawn on a terminal would garble results printed to the same terminal.
      const tty = !!stderr.isTTY && !(toStdout && stdout.isTTY);
      active = new Progress({ label, total, unit, stream: stderr, quiet: quiet || q, tty });
      return active;
    },
    warn(msg) { stderr.write(`wembed ${cmd}: warning: ${msg}\n`); },
    async write(text) { if (!stdout.write(text)) await once(stdout, 'drain'); },
  };
  let interruptStatus = 130;
  const onSignal = (signal) => {
    interruptStatus = 128 + (SIGNALS[signal] ?? 2);
    if (!ABORTABLE.has(cmd) || aborter.signal.aborted) {
      active?.clear();
      stderr.write(`wembed ${cmd}: interrupted (${signal})\n`);
      process.exit(interruptStatus);  // the 'exit' handler of cli/io.js removes partial outputs
    }
    aborter.abort();
  };
  for (const s of Object.keys(SIGNALS)) process.on(s, onSignal);
  try {
    await commands[cmd](rest, ctx);
    return 0;
  } catch (e) {
    active?.clear();
    if (e instanceof UsageError) {
      stderr.write(`wembed ${cmd}: ${e.message}\nUsage: ${HELP[cmd].synopsis}\nRun "wembed ${cmd} --help" for details.\n`);
      return 2;
    }
    if (aborter.signal.aborted && e?.name === 'AbortError') {
      stderr.write(`wembed ${cmd}: interrupted\n`);
      return interruptStatus;
    }
    stderr.write(`wembed ${cmd}: ${bare(e?.message ?? e)}\n`);
    if (process.env.WEMBED_DEBUG) stderr.write(`${e?.stack}\n`);
    return 1;
  } finally {
    for (const s of Object.keys(SIGNALS)) process.off(s, onSignal);
  }
}

// A closed pipe downstream (e.g. `wembed search ... | head -1`) ends the run quietly.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`wembed: cannot write to stdout: ${e.message}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2));
