// Modules with named parameters; everything a model file composes.
export { Module, Param, Ctx, join, type ParamSpec, type Init, type FloatDType } from './module.js';
export { Linear, Embedding, LayerNorm, RMSNorm, activate, type Activation, type LinearOptions } from './layers.js';
export { attention, splitHeads, mergeHeads, repeatKv, paddingMask, causalMask4d, prefixLmMask, MASKED } from './attention.js';
export { initParameters, mulberry32 } from './init.js';
export { MLP, MultiHeadAttention, type MultiHeadAttentionOptions } from './blocks.js';
export { ropeInvFreq, ropeCosSin, rotateHalf, applyRope } from './rope.js';
