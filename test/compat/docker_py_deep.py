"""docker-py 5.0.3 (Debian's python3-docker) against the engine at DOCKER_HOST: the
less common calls a developer reaches for (run kwargs, logs windows, exec options,
archive/export/commit/diff, link removal, df/events, image save/load/build/list,
registry data, IPAM networks, volume options, info/version). Each step is recorded on
its own; prints one JSON object that src/integration/sdk-deep.test.ts asserts on.
REGISTRY (host:port of a local registry) is optional."""
import datetime
import io
import json
import os
import tarfile
import time

import docker
from docker.types import IPAMConfig, IPAMPool, LogConfig, Mount, Ulimit

from steps import out, step, tar_of

client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=30)
api = client.api
P = "pydeep"
# A /24 no host route uses, chosen by the Node test.
NET = os.environ.get("NET24", "10.231.5")
_bb = client.images.get("busybox").attrs
BB_PLATFORM = "%s/%s" % (_bb["Os"], _bb["Architecture"])
OTHER_PLATFORM = "linux/s390x" if _bb["Architecture"] != "s390x" else "linux/amd64"


@step("run_kwargs")
def _():
    c = client.containers.run(
        "busybox", "sh -c 'echo started; sleep 30'", detach=True, name=P + "-kw",
        environment={"A": "1", "B": "two words"}, working_dir="/tmp", user="1000:1000",
        volumes={P + "-vol": {"bind": "/data", "mode": "rw"}},
        mounts=[Mount("/scratch", None, type="tmpfs", tmpfs_size=4 * 1024 * 1024),
                Mount("/named", P + "-mvol", type="volume", labels={"k": "v"}, no_copy=True)],
        ports={"80/tcp": None, "81/tcp": ("127.0.0.1", None), "82/udp": [None, None]},
        extra_hosts={"example.test": "10.9.8.7"}, dns=["1.1.1.1"],
        healthcheck={"test": ["CMD", "true"], "interval": 1_000_000_000, "retries": 2},
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
        mem_limit="64m", nano_cpus=500_000_000, cpu_shares=512,
        ulimits=[Ulimit(name="nofile", soft=1024, hard=2048)], cap_add=["NET_ADMIN"],
        labels=["flag"], log_config=LogConfig(type="json-file", config={"max-size": "1m"}),
        init=True, read_only=True, shm_size="16m", sysctls={"net.ipv4.ip_forward": "1"},
        tmpfs={"/run/t": "size=1m"}, stdin_open=True, tty=False, platform=BB_PLATFORM)
    c.reload()
    hc, cfg = c.attrs["HostConfig"], c.attrs["Config"]
    # The ulimit as the container's own process has it: Debian's runc 1.1.5 sets an exec's
    # RLIMIT_NOFILE racily (opencontainers/runc#4195, fixed in runc 1.1.13).
    ex = c.exec_run(["sh", "-c", "id -u; pwd; echo $B; grep example.test /etc/hosts; grep nameserver /etc/resolv.conf; "
                     "awk '/^Max open files/ {print $4}' /proc/1/limits; grep -c ' /scratch tmpfs' /proc/mounts; "
                     "touch /x 2>&1 | grep -c Read-only; cat /proc/sys/net/ipv4/ip_forward"])
    r = {
        "exec": ex.output.decode(), "labels": cfg["Labels"], "env": [e for e in cfg["Env"] if e[:2] in ("A=", "B=")],
        "ports": sorted(c.ports.keys()), "port81": c.ports.get("81/tcp", [{}])[0].get("HostIp"),
        "hc": {k: hc.get(k) for k in ("Memory", "NanoCpus", "CpuShares", "Init", "ReadonlyRootfs", "ShmSize", "CapAdd", "Dns", "ExtraHosts", "Tmpfs", "Sysctls")},
        "restart": hc["RestartPolicy"], "log": hc["LogConfig"], "ulimits": hc["Ulimits"],
        "health": cfg.get("Healthcheck", {}).get("Test"), "mounts": sorted(m["Destination"] for m in c.attrs["Mounts"]),
        "open_stdin": cfg["OpenStdin"],
    }
    c.remove(force=True, v=True)
    client.volumes.get(P + "-vol").remove()
    client.volumes.get(P + "-mvol").remove()
    return r


@step("run_forms")
def _():
    a = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], stdout=True, stderr=True, remove=True)
    b = client.containers.run("busybox", "echo ep-arg", entrypoint=["/bin/echo", "ep"], remove=True)
    s = b"".join(client.containers.run("busybox", ["sh", "-c", "echo 1; echo 2"], stream=True, remove=True))
    c = client.containers.run("busybox", ["true"], detach=True, auto_remove=True)
    c.wait(timeout=10)
    for _ in range(50):  # auto_remove: gone soon after the exit
        try:
            client.containers.get(c.id)
            time.sleep(0.1)
        except docker.errors.NotFound:
            break
    gone = not any(x.id == c.id for x in client.containers.list(all=True))
    try:
        client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
        err = None
    except docker.errors.ContainerError as e:
        err = e.exit_status
    return {"both": sorted(a.decode().split()), "entrypoint": b.decode(), "stream": s.decode(), "auto_removed": gone, "exit": err}


@step("platform_mismatch")
def _():
    # A local image of another platform: dockerd answers 404 (clients then pull). docker-py
    # 5 uses platform= only for that pull, so the create goes through its raw post.
    try:
        r = api._post_json(api._url("/containers/create"), data={"Image": "busybox", "Cmd": ["true"]}, params={"platform": OTHER_PLATFORM})
        api._result(r, True)
        return "created"
    except docker.errors.APIError as e:
        return [e.status_code, str(e.explanation)]


@step("logs")
def _():
    # docker-py sends since/until in whole seconds: b comes 2.2 s after a, and the cut is
    # 1.1 s after a's own timestamp, so a whole second falls between them.
    c = client.containers.run("busybox", ["sh", "-c", "echo a; sleep 2.2; echo b; sleep 30"], detach=True, name=P + "-logs")
    time.sleep(2.5)
    ts_a = c.logs(timestamps=True).decode().split(" ", 1)[0]
    mid = datetime.datetime.strptime(ts_a[:26], "%Y-%m-%dT%H:%M:%S.%f") + datetime.timedelta(seconds=1.1)
    r = {
        "tail": c.logs(tail=1).decode(),
        "since": c.logs(since=mid).decode(), "until": c.logs(until=mid).decode(),
        "ts": c.logs(timestamps=True).decode().split("\n")[0].split(" ", 1),
    }
    it = c.logs(stream=True, follow=True)
    got = [next(it), next(it)]
    it.close()
    r["follow"] = b"".join(got).decode()
    st = c.stats(stream=False)
    r["stats"] = sorted(k for k in ("read", "cpu_stats", "memory_stats", "pids_stats", "networks") if k in st)
    one = next(c.stats(decode=True))
    r["stats_decode"] = "cpu_stats" in one
    c.remove(force=True)
    return r


@step("exec")
def _():
    c = client.containers.run("busybox", ["sleep", "30"], detach=True, name=P + "-exec")
    env = c.exec_run(["sh", "-c", "echo $X; pwd; id -u"], environment={"X": "xv"}, workdir="/etc", user="nobody")
    dm = c.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    st = b"".join(c.exec_run(["sh", "-c", "echo s1; echo s2"], stream=True).output)
    pv = c.exec_run(["sh", "-c", "grep CapEff /proc/self/status"], privileged=True)
    sock = c.exec_run(["sh", "-c", "cat"], socket=True, stdin=True)
    s = sock.output._sock
    s.sendall(b"via-socket\n")
    s.shutdown(1)
    data = b""
    s.settimeout(5)
    while True:
        x = s.recv(4096)
        if not x:
            break
        data += x
    c.remove(force=True)
    return {"env": env.output.decode(), "demux": [dm.output[0].decode(), dm.output[1].decode()], "stream": st.decode(),
            "priv": pv.output.decode().strip(), "socket": data[8:].decode() if data[:1] == b"\x01" else data.decode()}


@step("fs")
def _():
    # A trap: PID 1 ignores signals it has no handler for (dockerd's containers too).
    c = client.containers.run("busybox", ["sh", "-c", "trap 'exit 5' USR1; while :; do sleep 0.1; done"], detach=True, name=P + "-fs")
    put = c.put_archive("/tmp", tar_of({"in.txt": b"payload\n"}))
    bits, stat = c.get_archive("/tmp/in.txt")
    t = tarfile.open(fileobj=io.BytesIO(b"".join(bits)))
    back = t.extractfile("in.txt").read().decode()
    diff = sorted((d["Path"], d["Kind"]) for d in c.diff() if d["Path"].startswith("/tmp"))
    exp = tarfile.open(fileobj=io.BytesIO(b"".join(c.export())))
    names = exp.getnames()
    img = c.commit(repository=P + "-committed", tag="v1", changes=["ENV COMMITTED=yes", "CMD [\"cat\", \"/tmp/in.txt\"]"])
    ran = client.containers.run(img.id, remove=True).decode()
    upd = c.update(mem_limit="96m", memswap_limit="192m", cpu_shares=256)
    c.reload()
    mem = c.attrs["HostConfig"]["Memory"]
    c.rename(P + "-fs2")
    c.reload()
    name = c.name
    c.resize(30, 100)
    c.kill(signal="SIGUSR1")
    w = c.wait(condition="not-running", timeout=10)
    c.remove()
    client.images.remove(img.id)
    d = client.containers.run("busybox", ["sleep", "30"], detach=True)
    d.kill(signal=9)
    w9 = d.wait(timeout=10)
    d.remove()
    return {"put": put, "stat": [stat["name"], stat["size"]], "back": back, "diff": diff, "export_has": "tmp/in.txt" in names or "./tmp/in.txt" in names,
            "commit_run": ran, "committed_env": "COMMITTED=yes" in img.attrs["Config"]["Env"], "update": upd.get("Warnings"), "mem": mem,
            "renamed": name, "usr1": w["StatusCode"], "kill9": w9["StatusCode"]}


@step("links")
def _():
    db = client.containers.run("busybox", ["sleep", "30"], detach=True, name=P + "-db")
    web = client.containers.run("busybox", ["sleep", "30"], detach=True, name=P + "-web", links={P + "-db": "dbalias"})
    before = web.exec_run(["grep", "-c", "dbalias", "/etc/hosts"]).output.decode().strip()
    api.remove_container(P + "-web/dbalias", link=True)
    web.reload()
    links = web.attrs["HostConfig"]["Links"]
    web.restart(timeout=0)
    after = web.exec_run(["grep", "-c", "dbalias", "/etc/hosts"]).output.decode().strip()
    alive = [x.status for x in (db, web) if x.reload() is None]
    try:
        api.remove_container(P + "-web/dbalias", link=True)
        again = None
    except docker.errors.APIError as e:
        again = e.status_code
    web.remove(force=True)
    db.remove(force=True)
    return {"before": before, "links": links, "after": after, "alive": alive, "again": again}


@step("system")
def _():
    since = datetime.datetime.utcnow() - datetime.timedelta(seconds=1)
    v = client.volumes.create(P + "-ev", labels={"x": "1"})
    v.remove()
    until = datetime.datetime.utcnow() + datetime.timedelta(seconds=1)
    ev = [(e["Type"], e["Action"]) for e in client.events(decode=True, since=since, until=until, filters={"type": "volume", "volume": P + "-ev"})]
    df = client.df()
    info, ver = client.info(), client.version()
    return {"events": ev, "df": sorted(df.keys()),
            "info": {k: k in info for k in ("ID", "Containers", "Images", "Driver", "OperatingSystem", "OSType", "Architecture", "NCPU", "MemTotal", "ServerVersion", "DockerRootDir", "Name", "KernelVersion", "CgroupDriver", "SecurityOptions", "Runtimes", "DefaultRuntime")},
            "version": {k: k in ver for k in ("Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "KernelVersion", "GitCommit", "GoVersion", "Components")}}


@step("images")
def _():
    img = client.images.get("busybox")
    img.tag(P + "-img", "t1")
    data = b"".join(client.images.get(P + "-img:t1").save(named=P + "-img:t1"))
    names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    repos = json.loads(tarfile.open(fileobj=io.BytesIO(data)).extractfile("manifest.json").read())[0]["RepoTags"]
    client.images.remove(P + "-img:t1")
    loaded = client.images.load(data)
    # The high-level list re-reads each image (all its tags); the API shows the matching tags only.
    lst = [t for i in api.images(name=P + "-img") for t in i["RepoTags"]]
    dang = client.images.list(filters={"dangling": False, "reference": P + "-img*"})
    lab = client.images.list(filters={"label": "nope=1"})
    try:
        client.images.search("busybox")
        search = "ok"
    except docker.errors.APIError as e:
        search = [e.status_code, str(e.explanation)]
    client.images.remove(P + "-img:t1")
    return {"has_manifest": "manifest.json" in names, "repotags": repos, "loaded": [t for i in loaded for t in i.tags],
            "list_name": lst, "list_ref": len(dang), "list_label": len(lab), "search": search}


@step("build")
def _():
    df = (b"FROM busybox AS base\nARG V=def\nRUN echo $V > /v\nLABEL stage=base\n"
          b"FROM base AS final\nRUN cat /v > /w\nFROM busybox AS other\nRUN false\n")
    ctx = tar_of({"Dockerfile": df})
    img, logs = client.images.build(fileobj=io.BytesIO(ctx), custom_context=True, tag=P + "-b:1", buildargs={"V": "argval"},
                                    labels={"built": "py"}, target="final", network_mode="host", extra_hosts={"h.test": "10.1.1.1"},
                                    pull=False, rm=True, forcerm=True, nocache=True)
    out_ = client.containers.run(img.id, ["cat", "/w"], remove=True).decode()
    r = {"out": out_, "labels": img.labels, "tags": img.tags, "stream": any("stream" in x for x in logs)}
    try:
        client.images.build(fileobj=io.BytesIO(tar_of({"Dockerfile": b"FROM busybox\nRUN exit 7\n"})), custom_context=True, forcerm=True)
        r["fail"] = None
    except docker.errors.BuildError as e:
        r["fail"] = str(e.msg)
    client.images.remove(P + "-b:1")
    return r


@step("registry_data")
def _():
    reg = os.environ.get("REGISTRY")
    if not reg:
        return "skipped"
    ref = reg + "/pydeep/busybox:latest"
    client.images.get("busybox").tag(ref)
    for _ in client.images.push(ref, stream=True, decode=True):
        pass
    rd = client.images.get_registry_data(ref)
    client.images.remove(ref)
    return {"digest": rd.id.startswith("sha256:"), "platform": rd.has_platform("linux/amd64"), "os": rd.attrs["Platforms"][0]["os"] if rd.attrs.get("Platforms") else None}


@step("network")
def _():
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=NET + ".0/24", gateway=NET + ".1", iprange=NET + ".128/25")])
    n = client.networks.create(P + "-net", driver="bridge", ipam=ipam, options={"com.docker.network.bridge.enable_icc": "true"},
                               labels={"l": "1"}, internal=True, check_duplicate=True)
    try:
        client.networks.create(P + "-net", check_duplicate=True)
        dup = None
    except docker.errors.APIError as e:
        dup = e.status_code
    t = client.containers.run("busybox", ["sleep", "30"], detach=True, name=P + "-nt")
    c = client.containers.run("busybox", ["sleep", "30"], detach=True, name=P + "-nc")
    pre = c.exec_run(["cat", "/etc/resolv.conf"]).output.decode()
    n.connect(t, aliases=["tgt"])
    n.connect(c, aliases=["cli"], links=[(P + "-nt", "lnk")], ipv4_address=NET + ".50")
    c.reload()
    ep = c.attrs["NetworkSettings"]["Networks"][P + "-net"]
    ping = c.exec_run(["sh", "-c", "ping -c1 -W2 tgt >/dev/null && ping -c1 -W2 lnk >/dev/null && echo ok"]).output.decode()
    n.reload()
    r = {"ip": ep["IPAddress"], "aliases": "cli" in (ep.get("Aliases") or []), "links": ep.get("Links"), "ping": ping, "resolv": [pre.count("127.0.0.11"), c.exec_run(["cat", "/etc/resolv.conf"]).output.decode().count("nameserver 127.0.0.11")],
         "internal": n.attrs["Internal"], "labels": n.attrs["Labels"], "subnet": n.attrs["IPAM"]["Config"][0], "dup": dup,
         "containers": len(n.attrs["Containers"])}
    n.disconnect(c, force=True)
    for x in (t, c):
        x.remove(force=True)
    n.remove()
    return r


@step("volume")
def _():
    v = client.volumes.create(P + "-opt", driver="local", driver_opts={"type": "tmpfs", "device": "tmpfs", "o": "size=2m"})
    c = client.containers.create("busybox", ["true"], volumes={P + "-opt": {"bind": "/v", "mode": "rw"}})
    try:
        v.remove()
        busy = None
    except docker.errors.APIError as e:
        busy = e.status_code
    c.remove()
    v.remove(force=True)
    return {"opts": v.attrs["Options"], "busy": busy, "gone": P + "-opt" not in [x.name for x in client.volumes.list()]}


print(json.dumps(out))
