/**
 * The one tfjs namespace of the project. Every package uses `import { tf } from '@facecomb/engine'` so that a
 * single tfjs-core instance (and one backend registry) exists per process. @tensorflow/tfjs and the backends
 * resolve to their CommonJS builds in Node, the same files @vladmandic/face-api's node-wasm build requires.
 */
import './quiet.js';
import * as tf from '@tensorflow/tfjs';

export { tf };
