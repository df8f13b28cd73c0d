#!/usr/bin/env node
import { main } from "./main.js";

await main(["maintain", ...process.argv.slice(2)]);
