/** The compiler's public API: infrastructure description → StaticDescription, and scaling limits. */
export { compile, type CompileOptions } from './compile.js';
export { effectiveScaling, clampTarget, type ScalingLimits } from './scaling.js';
export { deepMerge, pyEqual } from './values.js';
export type { Locate, DocPath } from './locate.js';
export type { AttributeMapping, Edge, NodeDescription, StaticDescription } from './types.js';
