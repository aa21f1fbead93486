/** The watch of ECS and Lambda events that keeps the in-use index fresh between lists. */
export * from './apply';
export * from './named-events';
export * from './start-impaired';
export * from './task-event';
