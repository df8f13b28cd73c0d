#!/usr/bin/env node
import { main } from "./main.js";

await main(["scale", ...process.argv.slice(2)]);
