// Command-line argument parsing for the wembed CLI: long options (--name value, --name=value), a few short
// aliases, --no-<flag> negation, "--" to end options, and validation of numbers and choices.

/** A mistake in how the command was called: exit status 2, with the command's usage. */
export class UsageError extends Error {}

const SHORT = { '-o': 'out', '-m': 'model', '-k': 'top', '-q': 'quiet', '-h': 'help' };

/**
 * @param {string[]} argv
 * @param {Record<string, 'str'|'int'|'bool'|string[]>} spec option name → type (an array = one of these values)
 * @returns {{ _: string[], [name: string]: any }}
 */
export function parseArgs(argv, spec) {
  const all = { help: 'bool', quiet: 'bool', ...spec };
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { out._.push(...argv.slice(i + 1)); break; }
    if (arg === '-' || !arg.startsWith('-')) { out._.push(arg); continue; }
    let name, value;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      value = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (SHORT[arg] && all[SHORT[arg]]) {
      name = SHORT[arg];
    } else {
      throw new UsageError(`unknown option ${arg}${/^-\d/.test(arg) ? ' (put "--" before arguments that start with "-")' : ''}`);
    }
    let type = all[name];
    if (!type && name.startsWith('no-') && all[name.slice(3)] === 'bool') {
      if (value !== undefined) throw new UsageError(`option --${name} takes no value`);
      out[name.slice(3)] = false;
      continue;
    }
    if (!type) throw new UsageError(`unknown option --${name}`);
    if (type === 'bool') {
      if (value !== undefined) throw new UsageError(`option --${name} takes no value`);
      out[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option ${arg} needs a value`);
      value = argv[++i];
    }
    if (type === 'int') {
      if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
        throw new UsageError(`option --${name} needs a positive whole number, got ${JSON.stringify(value)}`);
      }
      out[name] = Number(value);
    } else if (Array.isArray(type)) {
      if (!type.includes(value)) throw new UsageError(`option --${name} must be ${type.length === 2 ? type.join(' or ') : `one of ${type.join(', ')}`}, got ${JSON.stringify(value)}`);
      out[name] = value;
    } else {
      if (value === '') throw new UsageError(`option --${name} needs a non-empty value`);
      out[name] = value;
    }
  }
  return out;
}

/** Throws a UsageError naming the first missing required option. */
export function requireOptions(a, ...names) {
  const missing = names.filter((n) => a[n] === undefined);
  if (missing.length) throw new UsageError(`missing ${missing.map((n) => `--${n}`).join(', ')}`);
}
