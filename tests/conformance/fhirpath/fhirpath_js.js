#!/usr/bin/env node
// HL7 FHIRPath.js (the `fhirpath` npm package, R4 model) side of genogate's
// FHIRPath differential test and benchmark.
//
// A job file (written by the C++ test/benchmark) lists the example resources
// and, per resource type, the element paths that carry invariants:
//   {"dir": "<examples dir>", "files": ["Observation-example.json", ...],
//    "types": {"Observation": [{"path": "Observation.component",
//                               "checks": [{"key": "obs-3", "expr": "..."}]}]}}
// Each check is evaluated on every node the path selects in each resource
// of that type, with %resource and %rootResource set to the resource.
//
//   node fhirpath_js.js diff JOB CPP_RESULTS OUT
//     CPP_RESULTS: JSON lines {"f": file, "p": path, "k": key, "r": [...]}
//     with one entry per context node: the result collection (a JSON array)
//     or {"error": "..."}. Writes OUT: {"evaluations": n, "agree": n,
//     "differ": n, "differences": [{f, p, k, expr, i, cpp, js}]}.
//   node fhirpath_js.js bench JOB ROUNDS
//     Prints {"evaluations", "seconds", "cpu_seconds", "per_second",
//     "per_cpu_second"}: evaluation
//     of all checks (resources parsed beforehand, expressions compiled once).
"use strict";
const fs = require("fs");
const path = require("path");
const fhirpath = require("fhirpath");
const model = require("fhirpath/fhir-context/r4");

const [mode, jobFile, arg3, arg4] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobFile, "utf8"));
const quiet = {traceFn: () => {}};

const compiled = new Map();
function compileExpr(expr, raw) {
  const k = (raw ? "R:" : "E:") + expr;
  if (!compiled.has(k)) {
    let fn;
    try {
      fn = fhirpath.compile(expr, model,
                            raw ? {resolveInternalTypes: false, ...quiet} : quiet);
    } catch (e) {
      fn = {error: String(e && e.message || e)};
    }
    compiled.set(k, fn);
  }
  return compiled.get(k);
}

// Normalised text of one result: the JSON array, or "error".
function norm(value) {
  if (value && value.error !== undefined) return "error";
  return JSON.stringify(value);
}

function evalAll(resource, onResult) {
  const checks = job.types[resource.resourceType];
  if (!checks) return 0;
  const env = {resource, rootResource: resource};
  let n = 0;
  for (const entry of checks) {
    const pathFn = compileExpr(entry.path, true);
    let nodes;
    try {
      nodes = pathFn.error ? [] : pathFn(resource, env);
    } catch (e) {
      nodes = [];
    }
    if (nodes.length === 0) continue;
    for (const check of entry.checks) {
      const fn = compileExpr(check.expr, false);
      const results = [];
      for (const node of nodes) {
        let r;
        if (fn.error) {
          r = {error: fn.error};
        } else {
          try {
            r = fn(node, env);
          } catch (e) {
            r = {error: String(e && e.message || e)};
          }
        }
        results.push(r);
        ++n;
      }
      if (onResult) onResult(entry.path, check, results);
    }
  }
  return n;
}

function loadResources() {
  return job.files.map(f => ({
    file: f,
    resource: JSON.parse(fs.readFileSync(path.join(job.dir, f), "utf8")),
  }));
}

if (mode === "diff") {
  const cpp = new Map();
  for (const line of fs.readFileSync(arg3, "utf8").split("\n")) {
    if (!line) continue;
    const o = JSON.parse(line);
    cpp.set(o.f + "\u0000" + o.p + "\u0000" + o.k, o.r);
  }
  const out = {evaluations: 0, agree: 0, differ: 0, missing: 0, differences: []};
  for (const {file, resource} of loadResources()) {
    evalAll(resource, (p, check, results) => {
      const mine = cpp.get(file + "\u0000" + p + "\u0000" + check.key);
      results.forEach((r, i) => {
        ++out.evaluations;
        const js = norm(r);
        const c = mine && i < mine.length ? norm(mine[i]) : "missing";
        if (c === js) {
          ++out.agree;
        } else {
          ++out.differ;
          out.differences.push({f: file, p, k: check.key, expr: check.expr, i,
                                cpp: c, js,
                                js_error: r && r.error !== undefined ? r.error : undefined,
                                cpp_error: mine && mine[i] && mine[i].error});
        }
      });
    });
  }
  // Evaluations only genogate made (context nodes FHIRPath.js did not find).
  fs.writeFileSync(arg4, JSON.stringify(out, null, 1));
  console.log(JSON.stringify({evaluations: out.evaluations, agree: out.agree,
                              differ: out.differ}));
} else if (mode === "bench") {
  const rounds = Number(arg3 || 1);
  const resources = loadResources();
  // Warm-up (compiles every expression).
  for (const {resource} of resources) evalAll(resource, null);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n = 0;
  for (let k = 0; k < rounds; ++k) {
    for (const {resource} of resources) n += evalAll(resource, null);
  }
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({evaluations: n, seconds: s, cpu_seconds: cpu,
                              per_second: n / s, per_cpu_second: n / cpu}));
} else {
  console.error("usage: fhirpath_js.js diff JOB CPP_RESULTS OUT | bench JOB ROUNDS");
  process.exit(2);
}
