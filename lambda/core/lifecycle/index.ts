/** Lifecycle policies, pure: parse, match, shield, evaluate. */
export * from './evaluate';
export * from './match';
export * from './parse';
export * from './shield';
