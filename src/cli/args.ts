// Checked conversion of flag values (commander hands them over as strings): the error names the option.

/** A number >= min, e.g. numberArg('--lr', '3e-4'). */
export function numberArg(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${v}"`);
  return n;
}

/** An integer >= min. */
export function intArg(name: string, v: string, min = 1): number {
  const n = numberArg(name, v, min);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}
