#!/usr/bin/env node
// HL7 FHIRPath.js (the `fhirpath` npm package, R4 model) side of genogate's
// FHIRPath differential test and benchmark.
//
// CHECKS is a JSON array of the constraints: [{"key": "obs-3", "expr":
// "...", "context": "Observation.referenceRange"}, ...].
// CASES is JSON lines, one per context node of an example resource:
//   {"f": "Bundle-x.json", "n": "Bundle.entry[0].resource[0].code[0]",
//    "res": "<location of %resource>", "root": "<location of %rootResource>",
//    "t": "<node type>", "c": [check index, ...], "r": [genogate result, ...]}
// Locations are FHIRPath paths from the file's resource with an index on
// every step; the node is found by navigating them step by step with the R4
// model (so it carries its FHIR type and parents, as when FHIRPath.js
// navigates itself), and each check is evaluated on it with %resource and
// %rootResource (the resources' JSON, as the FHIRPath.js README says to pass
// them).
//
//   node fhirpath_js.js diff CHECKS CASES DIR OUT
//     Compares FHIRPath.js with "r" (per check: the result collection as a
//     JSON array, or {"error": "..."}); DIR holds the example files.
//     Writes OUT: {"evaluations": n, "agree": n, "differ": n,
//     "differences": [{f, n, t, k, expr, cpp, js, js_error, cpp_error}]}.
//   node fhirpath_js.js bench CHECKS CASES DIR ROUNDS
//     Prints {"evaluations", "seconds", "cpu_seconds", "per_second",
//     "per_cpu_second"} for evaluating every check of every case ROUNDS
//     times (resources parsed, nodes found and expressions compiled
//     beforehand, as on genogate's side).
"use strict";
const fs = require("fs");
const path = require("path");
const fhirpath = require("fhirpath");
const model = require("fhirpath/fhir-context/r4");

const [mode, checksFile, casesFile, dir, arg5] = process.argv.slice(2);
const quiet = {traceFn: () => {}};
const raw = {resolveInternalTypes: false};

const compiled = new Map();  // expression -> compiled function or {error}
const checks = JSON.parse(fs.readFileSync(checksFile, "utf8")).map(c => {
  let fn = compiled.get(c.expr);
  if (!fn) {
    try {
      fn = fhirpath.compile(c.expr, model, quiet);
    } catch (e) {
      fn = {error: String(e && e.message || e)};
    }
    compiled.set(c.expr, fn);
  }
  return {...c, fn};
});

const steps = new Map();  // child name -> compiled navigation
function step(name) {
  let fn = steps.get(name);
  if (!fn) {
    fn = fhirpath.compile("`" + name + "`", model, raw);
    steps.set(name, fn);
  }
  return fn;
}

// Finds nodes by location in one file's resource, remembering each prefix.
class Navigator {
  constructor(file) {
    this.json = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    this.nodes = new Map();
    this.kids = new Map();
  }
  node(loc) {
    let n = this.nodes.get(loc);
    if (n !== undefined) return n;
    const dot = loc.lastIndexOf(".");
    if (dot < 0) {
      n = step(loc)(this.json, {})[0] || null;
    } else {
      const m = /^(.*)\[(\d+)\]$/.exec(loc.slice(dot + 1));
      const kids = m ? this.children(loc.slice(0, dot), m[1]) : [];
      n = kids[Number(m && m[2])] || null;
    }
    this.nodes.set(loc, n);
    return n;
  }
  // The children named `name` of the node at `loc` (navigated once).
  children(loc, name) {
    const k = loc + "\u0000" + name;
    let kids = this.kids.get(k);
    if (kids === undefined) {
      const parent = this.node(loc);
      kids = parent ? step(name)(parent, {}) : [];
      this.kids.set(k, kids);
    }
    return kids;
  }
  // The JSON of a resource node (what %resource is given as).
  resource(loc) {
    const n = this.node(loc);
    return n ? n.data : undefined;
  }
}

function evaluate(check, node, env) {
  if (check.fn.error) return {error: check.fn.error};
  try {
    return check.fn(node, env);
  } catch (e) {
    return {error: String(e && e.message || e)};
  }
}

// Normalised text of one result: the JSON array, or "error".
function norm(value) {
  if (value && value.error !== undefined) return "error";
  return JSON.stringify(value);
}

// Calls fn(case) for each line of the cases file, reading it in chunks.
function eachCase(fn) {
  const fd = fs.openSync(casesFile, "r");
  const buf = Buffer.alloc(1 << 22);
  let rest = "";
  for (;;) {
    const got = fs.readSync(fd, buf, 0, buf.length, null);
    if (got === 0) break;
    const lines = (rest + buf.toString("utf8", 0, got)).split("\n");
    rest = lines.pop();
    for (const l of lines) if (l) fn(JSON.parse(l));
  }
  if (rest) fn(JSON.parse(rest));
  fs.closeSync(fd);
}

// Resolves a case to {node, env} in the navigator of its file.
let nav = null;
function locate(c) {
  if (!nav || nav.file !== c.f) {
    nav = new Navigator(c.f);
    nav.file = c.f;
  }
  return {node: nav.node(c.n),
          env: {resource: nav.resource(c.res),
                rootResource: nav.resource(c.root)}};
}

if (mode === "diff") {
  const out = {evaluations: 0, agree: 0, differ: 0, differences: []};
  eachCase(c => {
    const {node, env} = locate(c);
    c.c.forEach((id, i) => {
      const check = checks[id];
      const r = node ? evaluate(check, node, env) : {error: "node not found"};
      ++out.evaluations;
      const js = norm(r);
      const cpp = norm(c.r[i]);
      if (cpp === js) {
        ++out.agree;
      } else {
        ++out.differ;
        out.differences.push({
          f: c.f, n: c.n, t: c.t, k: check.key, expr: check.expr, cpp, js,
          js_error: r && r.error !== undefined ? r.error : undefined,
          cpp_error: c.r[i] && c.r[i].error});
      }
    });
  });
  fs.writeFileSync(arg5, JSON.stringify(out, null, 1));
  console.log(JSON.stringify({evaluations: out.evaluations, agree: out.agree,
                              differ: out.differ}));
} else if (mode === "bench") {
  const rounds = Number(arg5 || 1);
  const work = [];
  eachCase(c => {
    const {node, env} = locate(c);
    if (node) work.push({node, env, checks: c.c.map(id => checks[id])});
  });
  nav = null;
  const run = () => {
    let n = 0;
    for (const w of work) {
      for (const check of w.checks) {
        evaluate(check, w.node, w.env);
        ++n;
      }
    }
    return n;
  };
  run();  // warm-up
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n = 0;
  for (let k = 0; k < rounds; ++k) n += run();
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({evaluations: n, seconds: s, cpu_seconds: cpu,
                              per_second: n / s, per_cpu_second: n / cpu}));
} else {
  console.error("usage: fhirpath_js.js diff CHECKS CASES DIR OUT | " +
                "bench CHECKS CASES DIR ROUNDS");
  process.exit(2);
}
