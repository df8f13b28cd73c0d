#!/usr/bin/env node
import { main } from "./main.js";

await main(["build", ...process.argv.slice(2)]);
