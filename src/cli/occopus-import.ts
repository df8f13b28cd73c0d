#!/usr/bin/env node
import { main } from './main.js';

await main(['import', ...process.argv.slice(2)]);
