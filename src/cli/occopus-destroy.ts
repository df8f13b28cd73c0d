#!/usr/bin/env node
import { main } from "./main.js";

await main(["destroy", ...process.argv.slice(2)]);
