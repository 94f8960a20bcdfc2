#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { runBlend } from './stages.js';

await runStage({ blend: runBlend });
