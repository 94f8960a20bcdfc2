#!/usr/bin/env node
import { runStage } from '@facecomb/stage';
import { runOcclusion } from './stages.js';

await runStage({ occlusion: runOcclusion });
