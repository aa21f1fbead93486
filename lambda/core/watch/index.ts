/** The watch of ECS task events that keeps the in-use index fresh between lists. */
export * from './apply';
export * from './task-event';
