/**
 * Evaluated before @tensorflow/tfjs is imported (see tf.ts): switches tfjs-core to production mode, which
 * silences its console warnings — the cpu backend's "looks like you are running TensorFlow.js in Node.js"
 * banner and "kernel ... is already registered" notices. Set FACECOMB_TF_DEBUG=1 to keep them.
 */
import * as core from '@tensorflow/tfjs-core';
import { flags } from './flags.js';

if (!flags.tfDebug) core.env().set('PROD', true);
