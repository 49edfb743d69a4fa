/** The queue's home is src/util/ordered-queue.ts; the reference server's Signal endpoint imports it from here. */
export { OrderedQueue } from '../util/ordered-queue.js';
