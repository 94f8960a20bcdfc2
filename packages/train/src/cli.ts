#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { swapStage, trainStage } from './stages.js';

await runStage({ train: trainStage, swap: swapStage });
