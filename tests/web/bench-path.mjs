// The 4 KB symbol path of the keystroke benchmarks (bench-keystroke.mjs in
// Chromium, bench-expand-node.mjs in Node): realistic elements of every kind,
// numbered so that none is a duplicate, cut at 4096 characters.
const units = [
  String.raw`srv*C:\symbols*https://msdl.microsoft.com/download/symbols`,
  String.raw`cache*C:\symcache`,
  String.raw`\\build-server\drops\symbols`,
  String.raw`srv*\\corp\symbols*https://symbols.corp.example/store`,
  String.raw`C:\Program Files\App\pdbs`,
];

/** @returns {string} */
export function keystrokePath() {
  let path = "";
  for (let i = 0; path.length < 4096; i++) path += (path ? ";" : "") + units[i % units.length] + i;
  return path.slice(0, 4096);
}
