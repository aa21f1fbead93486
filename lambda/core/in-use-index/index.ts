/** The in-use index: who uses which image digest, kept by lists (and later a watch). */
export * from './keys';
export * from './list';
export type { InUseIndexPort } from '../ports';
export type * from './types';
