#!/usr/bin/env node
import { main } from "./main.js";

await main(["serve", ...process.argv.slice(2)]);
