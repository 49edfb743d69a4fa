/**
 * The classic-script build (`dist/legacy/wssclient.js`): defines the one global
 * the 0.4.1 script defined, `WSSClient`, and nothing else.
 */
import { WSSClient } from './wss-client-compat.js';

(globalThis as { WSSClient?: typeof WSSClient }).WSSClient = WSSClient;
