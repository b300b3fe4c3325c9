// The CLI as a separate process for the tests' `-s ""` receiver (the built bin/ needs dist/).
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
