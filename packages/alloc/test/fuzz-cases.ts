/** How many cases each property runs: modest for CI, more on demand with UK_FUZZ_CASES. */
export const FUZZ_CASES = Number(process.env.UK_FUZZ_CASES ?? 150);
