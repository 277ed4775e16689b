"""docker-py (Debian's python3-docker) against berthd: the calls a Python user makes.
Prints one JSON object with what it observed; src/integration/sdk.test.ts asserts on it."""
import json
import os
import sys

import docker
from docker.errors import NotFound, APIError

out = {}
client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=60)
out["ping"] = client.ping()
out["api_version"] = client.version()["ApiVersion"]
out["run_output"] = client.containers.run("busybox", ["echo", "hello from docker-py"], remove=True).decode()

c = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2; sleep 30"], detach=True, name="pyc", labels={"sdk": "py"})
c.reload()
out["status"] = c.status
out["labels"] = c.labels
rc, data = c.exec_run(["sh", "-c", "echo exec-ok; exit 3"])
out["exec"] = [rc, data.decode()]
rc2, stream = c.exec_run(["cat", "/etc/hostname"], demux=True)
out["exec_demux"] = [rc2, stream[0].decode() if stream[0] else None]
out["listed"] = [x.name for x in client.containers.list(filters={"label": "sdk=py"})]
c.stop(timeout=1)
out["wait"] = c.wait()
out["logs_stdout"] = c.logs(stdout=True, stderr=False).decode()
out["logs_stderr"] = c.logs(stdout=False, stderr=True).decode()
c.remove()
try:
    client.containers.get("pyc")
    out["removed"] = False
except NotFound:
    out["removed"] = True

v = client.volumes.create("pyvol", labels={"a": "b"})
out["volume"] = v.name
v.remove()
out["images"] = sorted(t for i in client.images.list() for t in i.tags)
try:
    client.containers.run("busybox", ["/no/such/binary"], remove=True)
    out["missing_binary"] = "no error"
except docker.errors.ContainerError as e:
    out["missing_binary"] = ["ContainerError", e.exit_status]
except APIError as e:
    out["missing_binary"] = ["APIError", e.status_code, str(e.explanation)]
json.dump(out, sys.stdout)
