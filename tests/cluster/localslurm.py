"""A private single-node SLURM cluster (munged, MariaDB, slurmdbd, slurmctld, slurmd) under one folder.

Every daemon runs in the foreground as a child of this process, on its own free loopback ports and
sockets, so the cluster neither needs nor disturbs a system-wide SLURM, munge or MariaDB setup, and
stopping it is a matter of stopping our own children.
"""
from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# The binaries the cluster needs, from Debian's slurm-wlm, slurmdbd, munge and mariadb-server packages.
BINARIES = ("munged", "munge", "mariadb-install-db", "mariadbd", "slurmdbd", "slurmctld", "slurmd",
            "sbatch", "srun", "sacct", "sacctmgr", "scontrol", "sinfo")
CLUSTER = "gonbench"
PARTITION = "clustertest"
ACCOUNT = "gonbench"


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name: str) -> str:
    """Daemons live in /usr/sbin, which a non-login root shell may not have on PATH."""
    return shutil.which(name) or str(Path("/usr/sbin", name))


@dataclass
class LocalSlurm:
    """Configs, keys, logs, state and database of one cluster, all under `root`: `start()`, then `stop()`."""
    root: Path
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    user: str = field(default_factory=getpass.getuser)
    daemons: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.etc, self.run, self.log = self.root / "etc", self.root / "run", self.root / "log"
        self.bin = self.root / "bin"
        self.conf = self.etc / "slurm.conf"
        self.munge_socket = self.run / "munge.socket"
        self.ports = {name: _free_port() for name in ("mysql", "dbd", "ctld", "slurmd")}

    # -- environment ------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The environment for SLURM clients: our config first, and the srun shim (see write_configs)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = f"{self.bin}:{env.get('PATH', '')}:/usr/sbin:/sbin"
        return env

    def client(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run(args, env=self.env(), capture_output=True, text=True, timeout=60)
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
        return out

    # -- configuration ----------------------------------------------------------------------------
    def write_configs(self) -> None:
        for d in (self.etc, self.run, self.log, self.bin, self.root / "state", self.root / "spool"):
            d.mkdir(parents=True, exist_ok=True)
        self.run.chmod(0o755)  # munged serves its socket only from a folder everyone may enter
        key = self.etc / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        # slurmd -C measures CPUs and RealMemory, so the node registers exactly as configured.
        hardware = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
        measured = next(line for line in hardware.splitlines() if line.startswith("NodeName=")).split()[1:]
        node_line = " ".join([f"NodeName={self.node}", *measured])
        auth = f"AuthInfo=socket={self.munge_socket}"
        self.conf.write_text("\n".join([
            f"ClusterName={CLUSTER}",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmUser={self.user}",
            f"SlurmdUser={self.user}",
            f"SlurmctldPort={self.ports['ctld']}",
            f"SlurmdPort={self.ports['slurmd']}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            auth,
            f"StateSaveLocation={self.root / 'state'}",
            f"SlurmdSpoolDir={self.root / 'spool'}",
            f"SlurmctldPidFile={self.run / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.run / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.log / 'slurmctld.log'}",
            f"SlurmdLogFile={self.log / 'slurmd.log'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            # No cgroups in a container: track job processes through /proc and bind no CPUs.
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "ReturnToService=2",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "GresTypes=gpu",
            # Jobs leave slurmctld's memory soon: their status must come from slurmdbd, as on a real site.
            "MinJobAge=10",
            "AccountingStorageType=accounting_storage/slurmdbd",
            "AccountingStorageHost=127.0.0.1",
            f"AccountingStoragePort={self.ports['dbd']}",
            f"AccountingStoragePass={self.munge_socket}",  # the munge socket for talking to slurmdbd
            "AccountingStorageTRES=gres/gpu",
            "AccountingStoreFlags=job_comment",  # sacct shows the rule the plugin writes in --comment
            "JobCompType=jobcomp/none",
            f"{node_line} NodeAddr=127.0.0.1 Gres=gpu:1 State=UNKNOWN",
            # Not the default partition: a job only lands here when the profile names it.
            f"PartitionName={PARTITION} Nodes={self.node} Default=NO MaxTime=INFINITE State=UP",
            "",
        ]))
        # One GPU for the scheduler to hand out on --gpus=1. Slurm 22.05 drops a GPU without a File, so
        # /dev/null stands in for the device: jobs are scheduled against it, nothing opens it.
        (self.etc / "gres.conf").write_text(f"NodeName={self.node} Name=gpu Count=1 File=/dev/null\n")
        dbd = self.etc / "slurmdbd.conf"
        dbd.write_text("\n".join([
            "AuthType=auth/munge",
            auth,
            "DbdHost=localhost",
            "DbdAddr=127.0.0.1",
            f"DbdPort={self.ports['dbd']}",
            f"SlurmUser={self.user}",
            f"PidFile={self.run / 'slurmdbd.pid'}",
            f"LogFile={self.log / 'slurmdbd.log'}",
            "StorageType=accounting_storage/mysql",
            "StorageHost=127.0.0.1",
            f"StoragePort={self.ports['mysql']}",
            "StorageUser=root",
            "StorageLoc=slurm_acct_db",
            "",
        ]))
        dbd.chmod(0o600)
        # snakemake-executor-plugin-slurm-jobstep starts each job's command with `srun`, after removing
        # every SLURM_* variable (SLURM_CONF included) from its environment. Real sites keep their config
        # at the compiled-in path; this private one is put back for that srun only.
        srun = self.bin / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        srun.chmod(0o755)

    # -- daemons ----------------------------------------------------------------------------------
    def _start(self, name: str, args: list[str], ready: Callable[[], bool], timeout: float = 60) -> None:
        log = open(self.log / f"{name}.out", "w")
        self.daemons[name] = subprocess.Popen(args, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not ready():
            if self.daemons[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come up; its log:\n{self.tail(name)}")
            time.sleep(0.5)

    def _ok(self, *args: str) -> bool:
        try:
            return self.client(*args, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _node_idle(self) -> bool:
        out = self.client("sinfo", "-h", "-N", "-o", "%t", check=False).stdout.split()
        return out == ["idle"]

    def start(self) -> None:
        self.write_configs()
        self._start("munged", [_which("munged"), "--foreground", "--force", f"--socket={self.munge_socket}",
                               f"--key-file={self.etc / 'munge.key'}", f"--pid-file={self.run / 'munged.pid'}",
                               f"--log-file={self.log / 'munged.log'}", f"--seed-file={self.run / 'munged.seed'}"],
                    lambda: self.munge_socket.exists())
        db = self.root / "db"
        subprocess.run([_which("mariadb-install-db"), "--no-defaults", f"--datadir={db}", f"--user={self.user}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       capture_output=True, text=True, check=True, timeout=120)
        # Loopback only, and without grant tables: a throwaway database only slurmdbd talks to.
        self._start("mariadbd", [_which("mariadbd"), "--no-defaults", f"--datadir={db}", f"--user={self.user}",
                                 f"--socket={self.run / 'mysql.sock'}", f"--port={self.ports['mysql']}",
                                 "--bind-address=127.0.0.1", "--skip-grant-tables",
                                 f"--pid-file={self.run / 'mariadbd.pid'}", "--innodb-lock-wait-timeout=900"],
                    lambda: self._port_open(self.ports["mysql"]))
        self._start("slurmdbd", [_which("slurmdbd"), "-D"], lambda: self._ok("sacctmgr", "-n", "list", "cluster"))
        # The cluster, an account and this user's association, as a site's admin would add them.
        for args in (("cluster", CLUSTER), ("account", ACCOUNT, f"Cluster={CLUSTER}"),
                     ("user", self.user, f"Account={ACCOUNT}", f"Cluster={CLUSTER}")):
            self.client("sacctmgr", "-i", "add", *args)
        # -i: a fresh state folder has no state files to recover, which is not an error here.
        self._start("slurmctld", [_which("slurmctld"), "-D", "-i"], lambda: self._ok("scontrol", "ping"))
        self._start("slurmd", [_which("slurmd"), "-D", "-N", self.node], self._node_idle)

    @staticmethod
    def _port_open(port: int) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def stop(self) -> None:
        """Cancel what is left of our jobs (so no slurmstepd outlives slurmd), then stop the daemons in
        reverse start order."""
        if "slurmctld" in self.daemons and self.daemons["slurmctld"].poll() is None:
            self.client("scancel", "--user", self.user, check=False)
            deadline = time.monotonic() + 30
            while self.client("squeue", "-h", check=False).stdout.strip() and time.monotonic() < deadline:
                time.sleep(1)
        for name, proc in reversed(list(self.daemons.items())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self.daemons.clear()

    def tail(self, name: str, lines: int = 30) -> str:
        logs = [self.log / f"{name}.log", self.log / f"{name}.out"]
        text = "\n".join(p.read_text(errors="replace") for p in logs if p.exists())
        return "\n".join(text.splitlines()[-lines:])
