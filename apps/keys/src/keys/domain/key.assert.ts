/** Closes exhaustive switches: a new union member fails type-checking here, and at run time it is a programmer error. */
export const assertNever = (value: never): never => {
  throw new Error(`unexpected value: ${JSON.stringify((value as { type?: unknown })?.type ?? value)}`);
};
