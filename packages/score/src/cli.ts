#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { scoreStage } from './stages.js';

await runStage({ score: scoreStage });
