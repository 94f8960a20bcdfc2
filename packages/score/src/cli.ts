#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { scoreStage } from './stage.js';

await runStage({ score: scoreStage });
