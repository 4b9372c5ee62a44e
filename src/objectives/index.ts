// The objectives: importing this file registers every objective (clm, mlm, mlm+nsp, span, span-corruption,
// prefix-lm) with the registry in objective.ts, and re-exports their public functions.
export * from './objective.js';
export * from './chunks.js';
export * from './clm.js';
export * from './masking.js';
export * from './mlm.js';
export * from './nsp.js';
export * from './span.js';
export * from './span-corruption.js';
export * from './prefix-lm.js';
