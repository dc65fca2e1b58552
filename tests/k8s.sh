#!/bin/sh
# k8s.sh - deploy/kubernetes/shmfs.yaml checked offline (TAP): no cluster
# runs here, and kubectl's --dry-run=client still asks a server for its
# resource list, so the manifest is read as YAML (python3-yaml) and every
# property the node's daemon depends on is asserted; make lint runs
# yamllint on it.  Its container runs tools/Dockerfile's ENTRYPOINT and
# CMD, the command line tests/docker_image.sh runs against a real engine.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
echo "1..1"
if out=$(python3 - "$top/deploy/kubernetes/shmfs.yaml" "$top/tools/Dockerfile" 2>&1 <<'EOF'
import json, sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)

want(len(ds) == 1, "one DaemonSet")
spec = ds[0]["spec"]
pod = spec["template"]["spec"]
want(spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items(),
     "the selector matches the pod's labels")
want(spec.get("updateStrategy", {}).get("type") == "RollingUpdate", "a rolling update")
want(pod.get("hostPID") is True and pod.get("hostIPC") is True, "hostPID and hostIPC")
want(pod.get("priorityClassName") == "system-node-critical", "system-node-critical")
want({"operator": "Exists"} in pod.get("tolerations", []), "tolerates every taint")
vols = {v["name"]: v for v in pod["volumes"]}
main = [c for c in pod["containers"] if c["name"] == "shmfs"]
want(len(main) == 1, "a container named shmfs")
c = main[0]
want(c.get("securityContext", {}).get("privileged") is True, "privileged")
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
want(vols[mounts["/dev/fuse"]["name"]]["hostPath"]["path"] == "/dev/fuse", "/dev/fuse")
want(vols[mounts["/dev/shm"]["name"]]["hostPath"]["path"] == "/dev/shm", "the node's /dev/shm")
m = mounts["/mnt"]
want(vols[m["name"]]["hostPath"]["path"] == "/mnt"
     and m.get("mountPropagation") == "Bidirectional",
     "the node's /mnt (the mount point's parent), Bidirectional")
want(c.get("args") == ["/mnt/shm"], "mounted at /mnt/shm")
probe = c.get("readinessProbe", {}).get("exec", {}).get("command", [])
want(probe[:2] == ["timeout", "2"] and probe[-1] == "/mnt/shm/shmfs.prom",
     "a readiness probe under a timeout")
init = pod.get("initContainers", [])
want(any("fusermount3 -uz /mnt/shm" in " ".join(i.get("command", [])) and
         i["volumeMounts"][0].get("mountPropagation") == "Bidirectional" for i in init),
     "an init step that detaches a stale mount")
# The command line: the Dockerfile's exec-form ENTRYPOINT and CMD.
entry = cmd = None
for line in open(sys.argv[2]):
    if line.startswith("ENTRYPOINT "):
        entry = json.loads(line.split(" ", 1)[1])
    if line.startswith("CMD "):
        cmd = json.loads(line.split(" ", 1)[1])
want(c.get("command") == entry and c.get("args") == cmd,
     "command and args are the Dockerfile's ENTRYPOINT %s and CMD %s" % (entry, cmd))
want(all(i.get("image") == c.get("image") for i in init), "one image")
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
)
then
	echo "ok 1 - deploy/kubernetes/shmfs.yaml: a DaemonSet as the node's FUSE daemons run, with the Dockerfile's command line"
else
	echo "not ok 1 - deploy/kubernetes/shmfs.yaml: a DaemonSet as the node's FUSE daemons run, with the Dockerfile's command line"
	echo "$out" | sed 's/^/#   /'
fi
