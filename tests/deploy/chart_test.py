#!/usr/bin/env python3
"""Checks the Helm chart (helm/genogate) the way a cluster admin would.

Renders the chart with `helm template` for the default values and for a
production-like values file (helm/genogate/ci/production-values.yaml) and
reads the manifests: pod and container security context, probes, resources,
the preStop drain, no inline secrets, network policies, and that wrong values
fail at install time. `helm lint --strict` must pass for both value sets.

The configuration the chart renders into its ConfigMap must be one genogate
accepts: `genogate serve --check-config` ($GENOGATE_BINARY, set by ctest)
checks it, and every file and environment variable it names must be
mounted or set in the gateway container.

helm comes from scripts/fetch-helm.sh (or $GENOGATE_HELM).
"""
import os
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "helm", "genogate")
PRODUCTION = os.path.join(CHART, "ci", "production-values.yaml")


def helm_binary():
    if os.environ.get("GENOGATE_HELM"):
        return os.environ["GENOGATE_HELM"]
    out = subprocess.run([os.path.join(ROOT, "scripts", "fetch-helm.sh")],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


HELM = helm_binary()


def helm(*args):
    return subprocess.run([HELM, *args], capture_output=True, text=True)


def render(*value_args):
    out = helm("template", "rel", CHART, "--namespace", "genomics",
               *value_args)
    if out.returncode != 0:
        raise AssertionError("helm template failed: " + out.stderr)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


SECRET_WORDS = ("password", "secret", "token", "private_key", "apikey",
                "api_key")


def inline_secrets(node, path=""):
    """Keys that look like secrets and hold a literal value (not *_file,
    *_env or a reference)."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            key = str(k).lower()
            p = f"{path}.{k}"
            literal = isinstance(v, (str, int)) and not isinstance(
                v, bool) and not key.endswith(
                ("_file", "_env", "_url", "secretname",
                 "existingsecret"))
            if literal and any(w in key for w in SECRET_WORDS):
                found.append(p)
            found += inline_secrets(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += inline_secrets(v, f"{path}[{i}]")
    return found


def check_config(config_text):
    """Runs `genogate serve --check-config` on a config; (rc, stdout,
    stderr)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "genogate.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        out = subprocess.run([GENOGATE, "serve", "--config", path,
                              "--check-config"], capture_output=True,
                             text=True, timeout=120)
        return out.returncode, out.stdout.replace(path, "CONFIG"), out.stderr


GENOGATE = os.environ.get("GENOGATE_BINARY", "")


class ChartTest(unittest.TestCase):
    VALUE_SETS = {"default": [], "production": ["-f", PRODUCTION]}

    def test_lint_strict(self):
        for name, args in self.VALUE_SETS.items():
            out = helm("lint", "--strict", CHART, *args)
            self.assertEqual(out.returncode, 0, f"{name}: {out.stdout}"
                             f"{out.stderr}")

    def test_workloads_are_locked_down(self):
        for name, args in self.VALUE_SETS.items():
            docs = render(*args)
            workloads = by_kind(docs, "Deployment") + by_kind(
                docs, "StatefulSet")
            self.assertTrue(workloads, name)
            for w in workloads:
                where = f"{name}: {w['kind']}/{w['metadata']['name']}"
                spec = w["spec"]["template"]["spec"]
                self.assertFalse(spec.get("automountServiceAccountToken"),
                                 where)
                pod_sc = spec["securityContext"]
                self.assertTrue(pod_sc["runAsNonRoot"], where)
                self.assertGreater(pod_sc["runAsUser"], 0, where)
                self.assertEqual(pod_sc["seccompProfile"]["type"],
                                 "RuntimeDefault", where)
                for c in spec["containers"]:
                    sc = c["securityContext"]
                    self.assertFalse(sc["allowPrivilegeEscalation"], where)
                    self.assertTrue(sc["readOnlyRootFilesystem"], where)
                    self.assertEqual(sc["capabilities"]["drop"], ["ALL"],
                                     where)
                    for k in ("requests", "limits"):
                        self.assertIn("cpu", c["resources"][k], where)
                        self.assertIn("memory", c["resources"][k], where)
                    self.assertIn("livenessProbe", c, where)
                    self.assertIn("readinessProbe", c, where)

    def test_gateway_probes_drain_and_config(self):
        for name, args in self.VALUE_SETS.items():
            docs = render(*args)
            (dep,) = by_kind(docs, "Deployment")
            (c,) = dep["spec"]["template"]["spec"]["containers"]
            self.assertEqual(c["livenessProbe"]["httpGet"]["path"],
                             "/healthz")
            self.assertEqual(c["readinessProbe"]["httpGet"]["path"],
                             "/readyz")
            self.assertEqual(c["startupProbe"]["httpGet"]["path"],
                             "/healthz")
            self.assertIn("preStop", c["lifecycle"])
            self.assertEqual(c["args"][0], "serve")
            # The rolled-out config is the rendered one.
            (cm,) = by_kind(docs, "ConfigMap")
            config = yaml.safe_load(cm["data"]["genogate.yaml"])
            self.assertIn("server", config)
            self.assertIn("queue", config)
            self.assertTrue(config["queue"]["key_file"].startswith(
                "/etc/genogate/secrets/queue/"))
            self.assertTrue(config["security"]["api_keys_file"])
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            self.assertIn("/etc/genogate/secrets/queue", mounts)
            self.assertIn("/tmp", mounts)

    def test_no_inline_secrets(self):
        for name, args in self.VALUE_SETS.items():
            docs = render(*args)
            self.assertEqual(by_kind(docs, "Secret"), [], name)
            for d in docs:
                self.assertEqual(inline_secrets(d), [],
                                 f"{name}: {d['kind']}")
            for cm in by_kind(docs, "ConfigMap"):
                for text in cm["data"].values():
                    self.assertEqual(inline_secrets(yaml.safe_load(text)),
                                     [], name)
            for dep in by_kind(docs, "Deployment"):
                for c in dep["spec"]["template"]["spec"]["containers"]:
                    for env in c.get("env", []):
                        if any(w in env["name"].lower()
                               for w in SECRET_WORDS):
                            self.assertNotIn("value", env, env["name"])

    def test_production_values(self):
        docs = render("-f", PRODUCTION)
        kinds = {d["kind"] for d in docs}
        for k in ("HorizontalPodAutoscaler", "PodDisruptionBudget",
                  "Ingress", "ServiceMonitor", "NetworkPolicy"):
            self.assertIn(k, kinds)
        self.assertNotIn("StatefulSet", kinds, "external Redis: no bundled")
        (dep,) = by_kind(docs, "Deployment")
        self.assertNotIn("replicas", dep["spec"], "the HPA owns replicas")
        (c,) = dep["spec"]["template"]["spec"]["containers"]
        self.assertEqual(c["livenessProbe"]["httpGet"]["scheme"], "HTTPS")
        ports = {p["name"] for p in c["ports"]}
        self.assertEqual(ports, {"http", "mllp"})
        env = {e["name"]: e for e in c["env"]}
        self.assertIn("secretKeyRef",
                      env["GENOGATE_REDIS_PASSWORD"]["valueFrom"])
        (np,) = by_kind(docs, "NetworkPolicy")
        egress_cidrs = [p["ipBlock"]["cidr"] for rule in np["spec"]["egress"]
                        for p in rule.get("to", []) if "ipBlock" in p]
        self.assertEqual(sorted(egress_cidrs), ["10.20.0.0/16",
                                                "10.30.0.0/24"])
        (cm,) = by_kind(docs, "ConfigMap")
        config = yaml.safe_load(cm["data"]["genogate.yaml"])
        self.assertEqual(
            config["redis"]["url"],
            "redis+sentinel://redis-sentinel-0.redis.svc:26379,"
            "redis-sentinel-1.redis.svc:26379,"
            "redis-sentinel-2.redis.svc:26379/genogate")
        self.assertEqual(config["server"]["tls"]["client_ca_file"],
                         "/etc/genogate/client-ca/ca.crt")
        # The MLLP listener uses the same certificate and client CA.
        self.assertEqual(config["mllp"]["listen"], "0.0.0.0:2575")
        self.assertEqual(config["mllp"]["tls"], config["server"]["tls"])

    def test_default_values_bundle_redis_with_aof(self):
        docs = render()
        (sts,) = by_kind(docs, "StatefulSet")
        args = sts["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertIn("--appendonly", args)
        self.assertEqual(args[args.index("--appendonly") + 1], "yes")
        self.assertEqual(args[args.index("--appendfsync") + 1], "always")
        self.assertTrue(sts["spec"]["volumeClaimTemplates"])
        policies = {p["metadata"]["name"]: p
                    for p in by_kind(docs, "NetworkPolicy")}
        redis_policy = policies["rel-genogate-redis"]
        self.assertEqual(redis_policy["spec"]["egress"], [])

    @unittest.skipUnless(GENOGATE, "GENOGATE_BINARY is not set (ctest sets "
                         "it to the built genogate)")
    def test_genogate_accepts_the_rendered_config(self):
        for name, args in self.VALUE_SETS.items():
            docs = render(*args)
            (cm,) = by_kind(docs, "ConfigMap")
            (dep,) = by_kind(docs, "Deployment")
            (c,) = dep["spec"]["template"]["spec"]["containers"]
            self.assertEqual(
                c["args"], ["serve", "--config",
                            "/etc/genogate/config/genogate.yaml"])
            rc, out, err = check_config(cm["data"]["genogate.yaml"])
            self.assertEqual(rc, 0, f"{name}: {err}")
            lines = out.splitlines()
            self.assertEqual(lines[0], "ok CONFIG", name)
            mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
            files = [l[5:] for l in lines if l.startswith("file ")]
            self.assertIn("/etc/genogate/auth/api-keys.yaml", files, name)
            for f in files:
                under = [m for p, m in mounts.items()
                         if f.startswith(p.rstrip("/") + "/")]
                self.assertTrue(under, f"{name}: {f} is not mounted")
                self.assertTrue(under[0].get("readOnly"),
                                f"{name}: {f} is mounted writable")
            env = {e["name"] for e in c.get("env", [])}
            for v in (l[4:] for l in lines if l.startswith("env ")):
                self.assertIn(v, env, f"{name}: {v} is not set")
            if name == "production":
                # The endpoints' timeouts fit the queue's reclaim time: only
                # the work of a replica that is gone is taken over.
                self.assertEqual(
                    [l for l in lines if l.startswith("warning endpoint")],
                    [], name)

    @unittest.skipUnless(GENOGATE, "GENOGATE_BINARY is not set")
    def test_genogate_refuses_a_wrong_rendered_config(self):
        wrong = {
            "server.colour: unknown key": ["--set", "config.server.colour=red"],
            "queue.reclaim_idle_ms: must be at least 1000": [
                "--set", "config.queue.reclaim_idle_ms=10"],
            "security.api_key_file: unknown key": [
                "--set", "config.security.api_key_file=/x"],
            "timeout_ms": [
                "--set", "endpoints[0].name=e", "--set",
                "endpoints[0].url=https://ehr", "--set",
                "endpoints[0].timeout_ms=-1"],
        }
        checked = []
        for expected, args in wrong.items():
            out = helm("template", "rel", CHART, *args)
            if out.returncode != 0:
                continue  # refused by values.schema.json already
            checked.append(expected)
            (cm,) = by_kind([d for d in yaml.safe_load_all(out.stdout) if d],
                            "ConfigMap")
            rc, _, err = check_config(cm["data"]["genogate.yaml"])
            self.assertEqual(rc, 2, expected)
            self.assertIn(expected, err)
        # `config:` is merged as is: only genogate can refuse these.
        self.assertEqual(checked[:3], list(wrong)[:3])

    def test_wrong_values_fail_at_install_time(self):
        bad = {
            "unknown key": ["--set", "replicas=3"],
            "writable root": ["--set",
                              "securityContext.readOnlyRootFilesystem=false"],
            "root user": ["--set", "podSecurityContext.runAsNonRoot=false"],
            "inline token": ["--set", "endpoints[0].name=e", "--set",
                             "endpoints[0].url=https://ehr", "--set",
                             "endpoints[0].auth.token=abc"],
            "inline env secret": ["--set", "extraEnv[0].name=DB_PASSWORD",
                                  "--set", "extraEnv[0].value=x"],
            "bad endpoint url": ["--set", "endpoints[0].name=e", "--set",
                                 "endpoints[0].url=ftp://ehr"],
            "external redis without url": ["--set", "redis.mode=external"],
            "password in redis url": [
                "--set", "redis.mode=external", "--set",
                "redis.external.url=redis://user:pw@redis:6379/0"],
            "bad mode": ["--set", "redis.mode=cluster"],
            "tls without secret": ["--set", "tls.enabled=true"],
            "http jwks": ["--set", "auth.jwt.issuers[0].issuer=i", "--set",
                          "auth.jwt.issuers[0].audience=a", "--set",
                          "auth.jwt.issuers[0].jwksUrl=http://idp/jwks"],
        }
        for name, args in bad.items():
            out = helm("template", "rel", CHART, *args)
            self.assertNotEqual(out.returncode, 0, name)
            self.assertTrue(out.stderr.strip(), name)


if __name__ == "__main__":
    sys.argv[1:1] = ["-v"]
    unittest.main()
