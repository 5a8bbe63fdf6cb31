// Run a Python script on the MicroPython WebAssembly port, with a module beside it.
// node micropython_run.mjs MODULE.py SCRIPT.py: MODULE is importable as `m`;
// what the script prints goes to stdout, its errors to stderr (exit status 1).
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import { readFileSync } from "node:fs";

const [modulePath, scriptPath] = process.argv.slice(2);
let failed = false;
const mp = await loadMicroPython({
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => {
    failed = true;
    process.stderr.write(line + "\n");
  },
});
mp.FS.writeFile("/m.py", readFileSync(modulePath));
try {
  mp.runPython("import sys\nsys.path.append('/')\n" + readFileSync(scriptPath, "utf8"));
} catch (error) {
  failed = true;
  process.stderr.write(String(error) + "\n");
}
// Exit once stdout has taken everything: into a pipe, Node writes asynchronously,
// and process.exit() right away can cut off a long last line (seen in CI).
process.stdout.write("", () => process.exit(failed ? 1 : 0));
