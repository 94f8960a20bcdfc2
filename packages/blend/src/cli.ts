#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { runBlend } from './stage.js';

await runStage({ blend: runBlend });
