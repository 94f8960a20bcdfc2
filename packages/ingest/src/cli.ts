#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { encodeStage, ingestStage, synthStage } from './stages.js';

await runStage({ ingest: ingestStage, synth: synthStage, encode: encodeStage });
